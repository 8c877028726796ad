namespace Orleans.Trade.Api.Auth;

/// <summary>A stored API key: never the key itself, only its hash.</summary>
public sealed record ApiKeyRecord(
    string KeyId,
    string KeyHash,
    string Role,
    string? Subject,
    string? Name,
    DateTimeOffset CreatedAt,
    DateTimeOffset? RevokedAt);

/// <summary>Durable API key records (implemented by the silo over the database).</summary>
public interface IApiKeyStore
{
    Task<ApiKeyRecord?> FindAsync(string keyId, CancellationToken cancellationToken);
    Task InsertAsync(ApiKeyRecord record, CancellationToken cancellationToken);
    /// <summary>Keys in id order (oldest first: ids are ULIDs) after <paramref name="afterKeyId"/>, of one subject if given.</summary>
    Task<IReadOnlyList<ApiKeyRecord>> ListAsync(int limit, string? afterKeyId, string? subject, CancellationToken cancellationToken);
    /// <summary>True when at least one unrevoked admin key is stored.</summary>
    Task<bool> AnyActiveAdminAsync(CancellationToken cancellationToken);
    /// <summary>Returns false when no such key exists.</summary>
    Task<bool> RevokeAsync(string keyId, DateTimeOffset revokedAt, CancellationToken cancellationToken);
}
