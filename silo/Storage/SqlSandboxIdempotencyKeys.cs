using Orleans.Trade.Api.Payments;
using Orleans.Trade.Common;

namespace Orleans.Trade.Silo.Storage;

/// <summary>
/// Idempotency-Keys in sandbox_idempotency_keys: concurrent claims share one round trip (insert what is new, then read every
/// key's owner), so a payment's two or three keys cost a row each rather than a grain each.
/// </summary>
public sealed class SqlSandboxIdempotencyKeys : ISandboxIdempotencyKeys
{
    private readonly TradeDatabase _database;
    private readonly TradeClock _clock;
    private readonly RoundTripBatcher<(string Key, string Fingerprint), bool> _claims;

    public SqlSandboxIdempotencyKeys(TradeDatabase database, TradeClock clock, IConfiguration configuration)
    {
        _database = database;
        _clock = clock;
        var inFlight = database.Provider == StorageProvider.Postgres ? configuration.GetValue("Storage:RoundTripsInFlight", 2) : 1;
        // SQLite caps bound parameters at 32,766; the owners' read binds one per key of the batch.
        var maxBatch = Math.Min(configuration.GetValue("Storage:MaxBatch", 512), 1000);
        _claims = new RoundTripBatcher<(string, string), bool>(ClaimBatchAsync, maxBatch, inFlight, "sandbox-idempotency-claim");
    }

    public Task<bool> ClaimAsync(string key, string fingerprint, CancellationToken cancellationToken) =>
        _claims.EnqueueAsync((key, fingerprint));

    private async Task<IReadOnlyList<bool>> ClaimBatchAsync(IReadOnlyList<(string Key, string Fingerprint)> claims, CancellationToken cancellationToken)
    {
        // Within a batch the first claim of a key is the one that may insert it; the others compare against the owner.
        var firsts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, fingerprint) in claims)
        {
            firsts.TryAdd(key, fingerprint);
        }
        var keys = firsts.Keys.ToArray();
        var now = _database.ToDb(_clock.GetUtcNow());
        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (_database.Provider == StorageProvider.Postgres)
        {
            await connection.Command("""
                    INSERT INTO sandbox_idempotency_keys (idempotency_key, fingerprint, claimed_at)
                    SELECT k, f, @now FROM unnest(@keys, @fingerprints) AS c(k, f)
                    ON CONFLICT (idempotency_key) DO NOTHING
                    """, transaction)
                .With("keys", keys).With("fingerprints", keys.Select(k => firsts[k]).ToArray()).With("now", now)
                .ExecuteNonQueryAsync(cancellationToken);
        }
        else
        {
            foreach (var key in keys)
            {
                await connection.Command(
                        "INSERT OR IGNORE INTO sandbox_idempotency_keys (idempotency_key, fingerprint, claimed_at) VALUES (@key, @fingerprint, @now)", transaction)
                    .With("key", key).With("fingerprint", firsts[key]).With("now", now)
                    .ExecuteNonQueryAsync(cancellationToken);
            }
        }
        var select = connection.Command("", transaction);
        select.CommandText = $"SELECT idempotency_key, fingerprint FROM sandbox_idempotency_keys WHERE {select.WithIdsIn(_database.Provider, "idempotency_key", keys, "keys")}";
        await using (select)
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                owners[reader.GetString(0)] = reader.GetString(1);
            }
        }
        await transaction.CommitAsync(cancellationToken);
        return claims.Select(c => owners.TryGetValue(c.Key, out var owner) && owner == c.Fingerprint).ToArray();
    }
}
