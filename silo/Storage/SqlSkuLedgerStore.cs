using System.Text.Json;
using Orleans.Trade.Inventory;

namespace Orleans.Trade.Silo.Storage;

/// <summary>SKU ledgers in sku_ledger (aggregate, versioned) and sku_reservations (one row per open reservation).</summary>
public sealed class SqlSkuLedgerStore(TradeDatabase database) : ISkuLedgerStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General);

    public async Task<SkuLedger?> LoadAsync(string skuId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        long version;
        SkuState state;
        await using (var reader = await connection.Command("SELECT version, state FROM sku_ledger WHERE sku_id = @sku")
                         .With("sku", skuId).ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                return null;
            }
            version = reader.GetInt64(0);
            state = JsonSerializer.Deserialize<SkuState>(reader.GetString(1), Json)
                ?? throw new InvalidDataException($"The ledger of SKU '{skuId}' is empty.");
        }
        var reservations = new List<StockReservation>();
        await using (var reader = await connection.Command("SELECT reservation_id, parts, reserved_at FROM sku_reservations WHERE sku_id = @sku")
                         .With("sku", skuId).ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var parts = JsonSerializer.Deserialize<StockAllocationPart[]>(reader.GetString(1), Json)!;
                reservations.Add(new StockReservation(reader.GetString(0), parts, TradeDatabase.FromDb(reader.GetValue(2))));
            }
        }
        return new SkuLedger(version, state, reservations);
    }

    public async Task<long> WriteAsync(SkuLedgerWrite write, CancellationToken cancellationToken)
    {
        var postgres = database.Provider == StorageProvider.Postgres;
        var json = postgres ? "CAST(@state AS jsonb)" : "@state";
        var next = write.ExpectedVersion + 1;
        var now = database.ToDb(write.State.UpdatedAt);
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var rows = await connection.Command(write.ExpectedVersion == 0
                ? $"INSERT INTO sku_ledger (sku_id, version, state, updated_at) VALUES (@sku, @next, {json}, @now) ON CONFLICT (sku_id) DO NOTHING"
                : $"UPDATE sku_ledger SET version = @next, state = {json}, updated_at = @now WHERE sku_id = @sku AND version = @expected",
                transaction)
            .With("sku", write.SkuId).With("next", next).With("expected", write.ExpectedVersion).With("now", now)
            .With("state", JsonSerializer.Serialize(write.State, Json))
            .ExecuteNonQueryAsync(cancellationToken);
        if (rows != 1)
        {
            throw new SkuLedgerConflictException(write.SkuId, write.ExpectedVersion);
        }
        if (postgres)
        {
            if (write.Closed.Count > 0)
            {
                await connection.Command("DELETE FROM sku_reservations WHERE sku_id = @sku AND reservation_id = ANY(@ids)", transaction)
                    .With("sku", write.SkuId).With("ids", write.Closed.ToArray()).ExecuteNonQueryAsync(cancellationToken);
            }
            if (write.Opened.Count > 0)
            {
                await connection.Command(
                        "INSERT INTO sku_reservations (sku_id, reservation_id, parts, reserved_at) " +
                        "SELECT @sku, r.id, CAST(r.parts AS jsonb), r.at FROM unnest(@ids, @parts, @ats) AS r(id, parts, at)", transaction)
                    .With("sku", write.SkuId)
                    .With("ids", write.Opened.Select(r => r.ReservationId).ToArray())
                    .With("parts", write.Opened.Select(r => JsonSerializer.Serialize(r.Parts, Json)).ToArray())
                    .With("ats", write.Opened.Select(r => r.ReservedAt.UtcDateTime).ToArray())
                    .ExecuteNonQueryAsync(cancellationToken);
            }
        }
        else
        {
            foreach (var id in write.Closed)
            {
                await connection.Command("DELETE FROM sku_reservations WHERE sku_id = @sku AND reservation_id = @id", transaction)
                    .With("sku", write.SkuId).With("id", id).ExecuteNonQueryAsync(cancellationToken);
            }
            foreach (var r in write.Opened)
            {
                await connection.Command("INSERT INTO sku_reservations (sku_id, reservation_id, parts, reserved_at) VALUES (@sku, @id, @parts, @at)", transaction)
                    .With("sku", write.SkuId).With("id", r.ReservationId).With("parts", JsonSerializer.Serialize(r.Parts, Json))
                    .With("at", database.ToDb(r.ReservedAt)).ExecuteNonQueryAsync(cancellationToken);
            }
        }
        await transaction.CommitAsync(cancellationToken);
        return next;
    }
}
