using System.Collections.Concurrent;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Orleans.Trade.Api.Auth;

public sealed class ApiKeyAuthenticationOptions : AuthenticationSchemeOptions
{
    /// <summary>An admin key accepted without a stored record (from <c>Auth__BootstrapAdminKey</c>); compared by hash.</summary>
    public string? BootstrapAdminKey { get; set; }

    /// <summary>How long a verified key is trusted before the store is asked again (bounds revocation delay).</summary>
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>Authenticates the <c>X-Api-Key</c> header; answers 401/403 as ProblemDetails.</summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<ApiKeyAuthenticationOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    IApiKeyStore store,
    ApiKeyCache cache,
    TimeProvider clock,
    IProblemDetailsService problemDetails) : AuthenticationHandler<ApiKeyAuthenticationOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-Api-Key";
    public const string BootstrapKeyId = "bootstrap";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(HeaderName, out var values) || values.Count == 0 || string.IsNullOrEmpty(values[0]))
        {
            return AuthenticateResult.NoResult();
        }
        var key = values[0]!;
        var identity = await ResolveAsync(key);
        return identity is null
            ? AuthenticateResult.Fail("The API key is unknown or revoked.")
            : AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    private async Task<ClaimsIdentity?> ResolveAsync(string key)
    {
        var hash = ApiKeyFormat.Hash(key);
        var now = clock.GetUtcNow();
        if (cache.TryGet(hash, now, out var cached))
        {
            return cached;
        }
        var bootstrap = Options.BootstrapAdminKey;
        if (!string.IsNullOrEmpty(bootstrap) && ApiKeyFormat.HashMatches(bootstrap, hash))
        {
            return cache.Put(hash, new Caller(BootstrapKeyId, Roles.Admin, null), now + Options.CacheDuration);
        }
        if (!ApiKeyFormat.TryParseKeyId(key, out var keyId))
        {
            return null;
        }
        var record = await store.FindAsync(keyId, Context.RequestAborted);
        if (record is null || record.RevokedAt is not null || !ApiKeyFormat.HashMatches(key, record.KeyHash))
        {
            return null;
        }
        return cache.Put(hash, new Caller(record.KeyId, record.Role, record.Subject), now + Options.CacheDuration);
    }

    /// <summary>The claims of a verified key. Read-only by convention: nothing in the pipeline adds to an identity.</summary>
    internal static ClaimsIdentity Identity(Caller caller)
    {
        var claims = new List<Claim> { new(Caller.KeyIdClaim, caller.KeyId), new(ClaimTypes.Role, caller.Role) };
        if (caller.Subject is not null)
        {
            claims.Add(new Claim(Caller.SubjectClaim, caller.Subject));
        }
        return new CallerIdentity(caller, claims, SchemeName);
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        WriteProblem(StatusCodes.Status401Unauthorized, "Authentication required",
            $"Send a valid API key in the {HeaderName} header.");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblem(StatusCodes.Status403Forbidden, "Forbidden",
            "This API key's role may not perform this operation.");

    private async Task WriteProblem(int status, string title, string detail)
    {
        Response.StatusCode = status;
        if (status == StatusCodes.Status401Unauthorized)
        {
            Response.Headers.WWWAuthenticate = SchemeName;
        }
        await problemDetails.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
    }
}

/// <summary>
/// Verified keys by hash, for a short time, so a hot checkout path does not hit the database per request. Each entry keeps the
/// key's claims identity too: every request of the key shares it (each gets its own principal around it), instead of building
/// an identity and its claims per request (about 6% of what a hot-SKU checkout allocated).
/// </summary>
public sealed class ApiKeyCache
{
    private const int MaxEntries = 100_000;
    private readonly ConcurrentDictionary<string, (Caller Caller, ClaimsIdentity Identity, DateTimeOffset ExpiresAt)> _entries = new(StringComparer.Ordinal);

    public bool TryGet(string hash, DateTimeOffset now, out ClaimsIdentity identity)
    {
        if (_entries.TryGetValue(hash, out var entry) && entry.ExpiresAt > now)
        {
            identity = entry.Identity;
            return true;
        }
        identity = null!;
        return false;
    }

    /// <summary>Keeps a verified key until <paramref name="expiresAt"/>; answers its identity.</summary>
    public ClaimsIdentity Put(string hash, Caller caller, DateTimeOffset expiresAt)
    {
        if (_entries.Count >= MaxEntries)
        {
            _entries.Clear();
        }
        var identity = ApiKeyAuthenticationHandler.Identity(caller);
        _entries[hash] = (caller, identity, expiresAt);
        return identity;
    }

    /// <summary>Drops every cached entry of a key id (after revocation on this silo).</summary>
    public void Evict(string keyId)
    {
        foreach (var (hash, entry) in _entries)
        {
            if (entry.Caller.KeyId == keyId)
            {
                _entries.TryRemove(hash, out _);
            }
        }
    }
}
