using System.Data.Common;
using System.Globalization;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Silo.Storage;

/// <summary>Sellers' coupon redemptions as rows (migration 0030), each write checked against the seller's version.</summary>
public sealed class SqlCouponLedgerStore(TradeDatabase database) : ICouponLedgerStore
{
    public async Task<CouponLedger> LoadAsync(string sellerId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        // The version first: a write landing between the two reads is then seen in the rows, and the next write names a version
        // already passed and is refused (the activation reloads); read after them, it could be taken as known without its rows.
        var version = Convert.ToInt64(await connection.Command("SELECT COALESCE((SELECT version FROM coupon_ledgers WHERE seller_id = @seller), 0)")
            .With("seller", sellerId).ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        await using var reader = await connection.Command(
                "SELECT order_id, code, buyer_id, redeemed_at, hold_until, discount_minor, checkout_key FROM coupon_redemptions WHERE seller_id = @seller")
            .With("seller", sellerId).ExecuteReaderAsync(cancellationToken);
        var redemptions = new Dictionary<string, CouponRedemptionRecord>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            redemptions[reader.GetString(0)] = new CouponRedemptionRecord(reader.GetString(1), reader.GetString(2),
                TradeDatabase.FromDb(reader.GetValue(3)), TradeDatabase.FromDbNullable(reader.GetValue(4)), reader.GetInt64(5),
                reader.IsDBNull(6) ? null : reader.GetString(6));
        }
        return new CouponLedger(version, redemptions);
    }

    public async Task<long> WriteAsync(CouponLedgerWrite write, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        if (database.Provider == StorageProvider.Postgres)
        {
            // One statement, so its own transaction: no BEGIN and COMMIT round trips around it.
            return await WritePostgresAsync(connection, write, cancellationToken)
                ?? throw new CouponLedgerConflictException(write.SellerId, write.ExpectedVersion);
        }
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (!await VersionHeads.MoveSqliteAsync(connection, transaction, "coupon_ledgers", "seller_id", write.SellerId, write.ExpectedVersion, cancellationToken))
        {
            await transaction.RollbackAsync(cancellationToken);
            throw new CouponLedgerConflictException(write.SellerId, write.ExpectedVersion);
        }
        foreach (var orderId in write.Removed)
        {
            await connection.Command("DELETE FROM coupon_redemptions WHERE seller_id = @seller AND order_id = @order", transaction)
                .With("seller", write.SellerId).With("order", orderId).ExecuteNonQueryAsync(cancellationToken);
        }
        foreach (var (orderId, r) in write.Upserted)
        {
            await connection.Command(
                    "INSERT INTO coupon_redemptions (seller_id, order_id, code, buyer_id, redeemed_at, hold_until, discount_minor, checkout_key) " +
                    "VALUES (@seller, @order, @code, @buyer, @at, @hold, @discount, @checkout) ON CONFLICT (seller_id, order_id) DO UPDATE SET " +
                    "code = excluded.code, buyer_id = excluded.buyer_id, redeemed_at = excluded.redeemed_at, hold_until = excluded.hold_until, " +
                    "discount_minor = excluded.discount_minor, checkout_key = excluded.checkout_key", transaction)
                .With("seller", write.SellerId).With("order", orderId).With("code", r.Code).With("buyer", r.BuyerId)
                .With("at", database.ToDb(r.At)).With("hold", database.ToDb(r.HoldUntil)).With("discount", r.DiscountMinor)
                .With("checkout", r.CheckoutKey)
                .ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return write.ExpectedVersion + 1;
    }

    /// <summary>The statement of <see cref="WritePostgresAsync"/>, made once.</summary>
    private static readonly string WriteSql = $"""
        WITH {VersionHeads.PostgresHead("coupon_ledgers", "seller_id", "@seller")}, removed AS (
            DELETE FROM coupon_redemptions
            WHERE seller_id = @seller AND order_id = ANY(@removed) AND EXISTS (SELECT 1 FROM head)
        ), upserted AS (
            INSERT INTO coupon_redemptions (seller_id, order_id, code, buyer_id, redeemed_at, hold_until, discount_minor, checkout_key)
            SELECT @seller, t.order_id, t.code, t.buyer_id, t.redeemed_at, t.hold_until, t.discount_minor, t.checkout_key
            FROM unnest(@orders, @codes, @buyers, @ats, @holds, @discounts, @checkouts)
                AS t(order_id, code, buyer_id, redeemed_at, hold_until, discount_minor, checkout_key)
            WHERE EXISTS (SELECT 1 FROM head)
            ON CONFLICT (seller_id, order_id) DO UPDATE SET code = excluded.code, buyer_id = excluded.buyer_id,
                redeemed_at = excluded.redeemed_at, hold_until = excluded.hold_until, discount_minor = excluded.discount_minor,
                checkout_key = excluded.checkout_key
        )
        SELECT version FROM head
        """;

    /// <summary>
    /// The head's check, the removals and the upserts in one statement: the head moves on only from the expected version (a writer
    /// holding it makes this one wait, then see its version), and the rows change only if it moved; null when it did not. A write
    /// never names an order both to remove and to upsert.
    /// </summary>
    private static async Task<long?> WritePostgresAsync(DbConnection connection, CouponLedgerWrite write, CancellationToken cancellationToken)
    {
        await using var command = connection.Command(WriteSql)
            .With("seller", write.SellerId)
            .With("expected", write.ExpectedVersion)
            .With("removed", write.Removed.ToArray())
            .With("orders", write.Upserted.Select(u => u.Key).ToArray())
            .With("codes", write.Upserted.Select(u => u.Value.Code).ToArray())
            .With("buyers", write.Upserted.Select(u => u.Value.BuyerId).ToArray())
            .WithTimestamps("ats", write.Upserted.Select(u => (DateTimeOffset?)u.Value.At))
            .WithTimestamps("holds", write.Upserted.Select(u => u.Value.HoldUntil))
            .With("discounts", write.Upserted.Select(u => u.Value.DiscountMinor).ToArray())
            .With("checkouts", write.Upserted.Select(u => u.Value.CheckoutKey).ToArray());
        var version = await command.ExecuteScalarAsync(cancellationToken);
        return version is null or DBNull ? null : Convert.ToInt64(version, CultureInfo.InvariantCulture);
    }
}
