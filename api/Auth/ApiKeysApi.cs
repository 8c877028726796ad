using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Orleans.Trade.Api.Common;

namespace Orleans.Trade.Api.Auth;

public sealed record CreateApiKeyRequest(
    [Required][property: Description("admin, seller, buyer, analyst, erp, carrier or storefront (the storefront's backend, which posts its buyers' events).")] string? Role,
    [Description("Required for the seller, buyer, erp and carrier roles: the seller, buyer or carrier the key acts for; optional for a storefront (which one, when there are several).")] string? Subject,
    string? Name);

/// <summary>The one answer that ever shows a key in clear.</summary>
public sealed record CreatedApiKeyResponse(string KeyId, string ApiKey, string Role, string? Subject, string? Name, DateTimeOffset CreatedAt);

public sealed record ApiKeyResponse(string KeyId, string Role, string? Subject, string? Name, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

/// <summary>Issuing, listing and revoking API keys (admin only).</summary>
public static class ApiKeysApi
{
    public static IEndpointRouteBuilder MapApiKeysApiV1(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/api-keys").WithTags("API keys").RequireAuthorization(Policies.Admins);
        api.MapPost("/", Create).ProducesProblems(403);
        api.MapGet("/", List).ProducesProblems(403);
        api.MapDelete("/{keyId}", Revoke).ProducesProblems(403, 404, 409);
        return app;
    }

    public static async Task<Results<Created<CreatedApiKeyResponse>, ValidationProblem>> Create(
        CreateApiKeyRequest request, ApiKeyIssuer issuer, CancellationToken cancellationToken)
    {
        var v = new Validation();
        if (request.Role is null || !Roles.All.Contains(request.Role))
        {
            v.Add("role", $"role must be one of: {string.Join(", ", Roles.All)}.");
        }
        else if (Roles.RequiresSubject(request.Role) && request.Subject is null)
        {
            v.Add("subject", $"subject is required for role '{request.Role}': the seller, buyer or carrier the key acts for.");
        }
        if (request.Subject is not null)
        {
            v.Identifier("subject", request.Subject);
        }
        if (request.Name is { Length: > 100 })
        {
            v.Add("name", "name must be at most 100 characters.");
        }
        if (!v.IsValid)
        {
            return v.Problem();
        }
        var created = await issuer.IssueAsync(request.Role!, request.Subject, request.Name, cancellationToken);
        return TypedResults.Created($"/api/v1/api-keys/{created.KeyId}", created);
    }

    public static async Task<Results<Ok<IReadOnlyList<ApiKeyResponse>>, ValidationProblem>> List(IApiKeyStore store, CancellationToken cancellationToken,
        int limit = 1000,
        [Description("The keyId of the last key of the previous page: the keys after it (keys are listed oldest first).")] string? after = null,
        [Description("Only the keys acting for this seller, buyer or carrier (to find the one to revoke).")] string? subject = null)
    {
        var v = new Validation();
        v.Range("limit", limit, 1, 1000);
        if (after is not null) v.Identifier("after", after);
        if (subject is not null) v.Identifier("subject", subject);
        if (!v.IsValid)
        {
            return v.Problem();
        }
        var records = await store.ListAsync(limit, after, subject, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<ApiKeyResponse>>(
            records.Select(r => new ApiKeyResponse(r.KeyId, r.Role, r.Subject, r.Name, r.CreatedAt, r.RevokedAt)).ToArray());
    }

    /// <summary>
    /// Revokes a key; <c>bootstrap</c> revokes the configured bootstrap admin key (<c>Auth:BootstrapAdminKey</c>) on every silo
    /// (within the key cache's 30 s), once real admin keys exist: it stays refused even if it is configured again.
    /// </summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> Revoke(
        string keyId, IApiKeyStore store, ApiKeyCache cache, TimeProvider clock,
        Microsoft.Extensions.Options.IOptionsMonitor<ApiKeyAuthenticationOptions> authOptions, CancellationToken cancellationToken)
    {
        if (keyId == ApiKeyAuthenticationHandler.BootstrapKeyId)
        {
            var bootstrap = authOptions.Get(ApiKeyAuthenticationHandler.SchemeName).BootstrapAdminKey;
            if (string.IsNullOrEmpty(bootstrap))
            {
                return Problems.NotFound("No bootstrap admin key is configured on this silo.");
            }
            var now = clock.GetUtcNow();
            var revocationId = ApiKeyFormat.BootstrapRevocationId(bootstrap);
            if (await store.FindAsync(revocationId, cancellationToken) is null)
            {
                if (!await store.AnyActiveAdminAsync(cancellationToken))
                {
                    return Problems.Conflict("No stored admin key exists: revoking the bootstrap key now would leave nobody able to administer " +
                        "the platform. Issue an admin key (POST /api/v1/api-keys) first.");
                }
                try
                {
                    // The record matches no key (a random hash): the bootstrap key, often chosen by hand, is never stored.
                    var placeholder = ApiKeyFormat.Hash(Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
                    await store.InsertAsync(new ApiKeyRecord(revocationId, placeholder, Roles.Admin, null,
                        "bootstrap admin key (Auth:BootstrapAdminKey)", now, now), cancellationToken);
                }
                catch (System.Data.Common.DbException)
                {
                    // Revoked by another request at the same moment, or a real storage fault (then it is not there: 503).
                    if (await store.FindAsync(revocationId, cancellationToken) is null)
                    {
                        throw;
                    }
                }
            }
            cache.Evict(keyId);
            return TypedResults.NoContent();
        }
        if (!await store.RevokeAsync(keyId, clock.GetUtcNow(), cancellationToken))
        {
            return Problems.NotFound($"API key '{keyId}' does not exist.");
        }
        cache.Evict(keyId);
        return TypedResults.NoContent();
    }
}

/// <summary>Creates keys and stores only their hash; shared by the HTTP API and the silo's command line.</summary>
public sealed class ApiKeyIssuer(IApiKeyStore store, TimeProvider clock)
{
    public async Task<CreatedApiKeyResponse> IssueAsync(string role, string? subject, string? name, CancellationToken cancellationToken)
    {
        if (!Roles.All.Contains(role))
        {
            throw new ArgumentException($"Unknown role '{role}'.", nameof(role));
        }
        var (keyId, key) = ApiKeyFormat.Generate();
        var record = new ApiKeyRecord(keyId, ApiKeyFormat.Hash(key), role, subject, name, clock.GetUtcNow(), null);
        await store.InsertAsync(record, cancellationToken);
        return new CreatedApiKeyResponse(keyId, key, role, subject, name, record.CreatedAt);
    }
}
