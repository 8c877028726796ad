using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Trade.Api.Common;

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
    FailedAuthentications failures,
    TimeProvider clock,
    IProblemDetailsService problemDetails) : AuthenticationHandler<ApiKeyAuthenticationOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-Api-Key";
    public const string BootstrapKeyId = "bootstrap";
    /// <summary>Set on a request refused because its address failed too many keys: the challenge answers 429, not 401.</summary>
    private static readonly object TooManyFailures = new();

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(HeaderName, out var values) || values.Count == 0 || string.IsNullOrEmpty(values[0]))
        {
            return AuthenticateResult.NoResult();
        }
        var key = values[0]!;
        var now = clock.GetUtcNow();
        // A client sends the same key on every request of a keep-alive connection (a buyer's checkouts in a flash sale): the
        // connection remembers the key it last verified, which spares each later request hashing it and looking the hash up.
        // HTTP/1.x only, where a connection's requests come one after another (HTTP/2 streams would share its items at once).
        var connection = HttpProtocol.IsHttp11(Request.Protocol) || HttpProtocol.IsHttp10(Request.Protocol)
            ? Context.Features.Get<IConnectionItemsFeature>()?.Items
            : null;
        if (connection is not null && cache.TryGetForConnection(connection, key, now, out var remembered))
        {
            return Success(remembered);
        }
        var evictions = cache.Evictions;
        var hash = ApiKeyFormat.Hash(key);
        if (!cache.TryGet(hash, now, out var entry))
        {
            // The bootstrap key is never held back by other clients' failures (an operator behind the same proxy would be locked out).
            var isBootstrap = Options.BootstrapAdminKey is { Length: > 0 } bootstrap && ApiKeyFormat.HashMatches(bootstrap, hash);
            string? address = null;
            if (!isBootstrap && !failures.TryBegin(Context, out address, out var retryAfter))
            {
                Context.Items[TooManyFailures] = retryAfter;
                return AuthenticateResult.Fail("Too many failed API keys from this address.");
            }
            ApiKeyCache.Entry? verified;
            try
            {
                verified = await VerifyAsync(key, hash, isBootstrap, now);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                failures.GiveBack(address); // the key store failed, not the key
                throw;
            }
            if (verified is null)
            {
                return AuthenticateResult.Fail("The API key is unknown or revoked.");
            }
            failures.GiveBack(address);
            entry = verified;
        }
        if (connection is not null)
        {
            cache.RememberForConnection(connection, key, entry, evictions);
        }
        return Success(entry.Identity);
    }

    private static AuthenticateResult Success(ClaimsIdentity identity) =>
        AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));

    /// <summary>Checks a key this silo has not verified recently against the bootstrap key or the key store.</summary>
    private async Task<ApiKeyCache.Entry?> VerifyAsync(string key, string hash, bool isBootstrap, DateTimeOffset now)
    {
        if (isBootstrap && Options.BootstrapAdminKey is { } bootstrap)
        {
            // Revoked through DELETE /api/v1/api-keys/bootstrap (a record of its own, since it has none otherwise).
            var revocation = await store.FindAsync(ApiKeyFormat.BootstrapRevocationId(bootstrap), Context.RequestAborted);
            return revocation?.RevokedAt is not null ? null : cache.Put(hash, new Caller(BootstrapKeyId, Roles.Admin, null), now + Options.CacheDuration);
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
    internal static CallerIdentity Identity(Caller caller)
    {
        var claims = new List<Claim> { new(Caller.KeyIdClaim, caller.KeyId), new(ClaimTypes.Role, caller.Role) };
        if (caller.Subject is not null)
        {
            claims.Add(new Claim(Caller.SubjectClaim, caller.Subject));
        }
        return new CallerIdentity(caller, claims, SchemeName);
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        Context.Items.TryGetValue(TooManyFailures, out var retryAfter) && retryAfter is TimeSpan wait
            ? RateLimits.TooManyRequests(Context, wait, "Too many API keys from this address failed verification; this one was not checked.")
            : WriteProblem(StatusCodes.Status401Unauthorized, "Authentication required", $"Send a valid API key in the {HeaderName} header.");

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
/// an identity and its claims per request (about 6% of what a hot-SKU checkout allocated). A connection can also remember the
/// key it last verified (<see cref="RememberForConnection"/>), until the entry's expiry or the key's eviction.
/// </summary>
public sealed class ApiKeyCache
{
    private const int MaxEntries = 100_000;
    private static readonly object ConnectionSlot = new();
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>Bumped by every eviction: a key a connection remembers from before it is verified again.</summary>
    private int _evictions;

    /// <summary>A verified key's identity (which keeps its caller), and until when it is trusted.</summary>
    public sealed record Entry(CallerIdentity Identity, DateTimeOffset ExpiresAt)
    {
        public Caller Caller => Identity.Caller;
    }

    /// <summary>What a connection remembers: the key as the client sent it, in memory for the connection's life only (as the
    /// server's own header parsing keeps it), never logged or stored.</summary>
    private sealed record ConnectionKey(string Key, Entry Entry, int Evictions);

    public bool TryGet(string hash, DateTimeOffset now, out Entry entry)
    {
        if (_entries.TryGetValue(hash, out var found) && found.ExpiresAt > now)
        {
            entry = found;
            return true;
        }
        entry = null!;
        return false;
    }

    /// <summary>Keeps a verified key until <paramref name="expiresAt"/>; answers its entry.</summary>
    public Entry Put(string hash, Caller caller, DateTimeOffset expiresAt)
    {
        if (_entries.Count >= MaxEntries)
        {
            _entries.Clear();
        }
        var entry = new Entry(ApiKeyAuthenticationHandler.Identity(caller), expiresAt);
        _entries[hash] = entry;
        return entry;
    }

    /// <summary>
    /// The identity of <paramref name="key"/> if it is the key this connection last verified, that entry has not expired and no
    /// key was evicted since. Compared as sent (the connection's own client sent the remembered key), so any other key, or the
    /// same one after an eviction, is verified again.
    /// </summary>
    public bool TryGetForConnection(IDictionary<object, object?> connection, string key, DateTimeOffset now, out ClaimsIdentity identity)
    {
        if (connection.TryGetValue(ConnectionSlot, out var slot) && slot is ConnectionKey remembered
            && CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(remembered.Key.AsSpan()), MemoryMarshal.AsBytes(key.AsSpan()))
            && remembered.Entry.ExpiresAt > now
            && remembered.Evictions == Volatile.Read(ref _evictions))
        {
            identity = remembered.Entry.Identity;
            return true;
        }
        identity = null!;
        return false;
    }

    /// <summary>How many evictions there have been; read it before verifying a key that a connection will remember.</summary>
    public int Evictions => Volatile.Read(ref _evictions);

    /// <summary>
    /// Lets the connection answer its next requests with this key from <paramref name="entry"/> (see <see cref="TryGetForConnection"/>).
    /// <paramref name="evictionsBefore"/> is <see cref="Evictions"/> as read before the key was verified: an eviction that ran
    /// while it was (a revocation after the entry was read) leaves the connection's memory stale at once.
    /// </summary>
    public void RememberForConnection(IDictionary<object, object?> connection, string key, Entry entry, int evictionsBefore) =>
        connection[ConnectionSlot] = new ConnectionKey(key, entry, evictionsBefore);

    /// <summary>Drops every cached entry of a key id (after revocation on this silo); connections verify their keys again.</summary>
    public void Evict(string keyId)
    {
        foreach (var (hash, entry) in _entries)
        {
            if (entry.Caller.KeyId == keyId)
            {
                _entries.TryRemove(hash, out _);
            }
        }
        Interlocked.Increment(ref _evictions);
    }
}
