using System.Data.Common;
using Orleans.Trade.Api.Auth;

namespace Orleans.Trade.Silo.Storage;

public sealed class SqlApiKeyStore(TradeDatabase database) : IApiKeyStore
{
    private const string Columns = "key_id, key_hash, role, subject, name, created_at, revoked_at";

    public async Task<ApiKeyRecord?> FindAsync(string keyId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var reader = await connection.Command($"SELECT {Columns} FROM api_keys WHERE key_id = @id")
            .With("id", keyId).ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task InsertAsync(ApiKeyRecord record, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.Command($"INSERT INTO api_keys ({Columns}) VALUES (@id, @hash, @role, @subject, @name, @created, @revoked)")
            .With("id", record.KeyId).With("hash", record.KeyHash).With("role", record.Role).With("subject", record.Subject)
            .With("name", record.Name).With("created", database.ToDb(record.CreatedAt)).With("revoked", database.ToDb(record.RevokedAt))
            .ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<ApiKeyRecord>> ListAsync(int limit, string? afterKeyId, string? subject, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var reader = await connection.Command(
                $"SELECT {Columns} FROM api_keys WHERE (CAST(@after AS text) IS NULL OR key_id > CAST(@after AS text)) " +
                "AND (CAST(@subject AS text) IS NULL OR subject = CAST(@subject AS text)) " +
                "ORDER BY key_id LIMIT @limit")
            .With("limit", limit).With("after", afterKeyId).With("subject", subject).ExecuteReaderAsync(cancellationToken);
        var records = new List<ApiKeyRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            records.Add(Read(reader));
        }
        return records;
    }

    public async Task<bool> RevokeAsync(string keyId, DateTimeOffset revokedAt, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.Command("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, @at) WHERE key_id = @id")
            .With("id", keyId).With("at", database.ToDb(revokedAt)).ExecuteNonQueryAsync(cancellationToken);
        return rows > 0;
    }

    /// <summary>True when at least one unrevoked admin key is stored (used for the start-up hint).</summary>
    public async Task<bool> AnyActiveAdminAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var found = await connection.Command("SELECT 1 FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL LIMIT 1")
            .ExecuteScalarAsync(cancellationToken);
        return found is not null;
    }

    private static ApiKeyRecord Read(DbDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2),
        r.IsDBNull(3) ? null : r.GetString(3), r.IsDBNull(4) ? null : r.GetString(4),
        TradeDatabase.FromDb(r.GetValue(5)), TradeDatabase.FromDbNullable(r.GetValue(6)));
}
