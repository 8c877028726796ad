using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Orleans.Trade.Api.Risk;
using Orleans.Trade.Risk;

namespace Orleans.Trade.Silo.Storage;

/// <summary>The review queue projection: review grains write, the API and the training command read.</summary>
public sealed class SqlRiskReviewStore(TradeDatabase database) : IRiskReviewSink, IRiskReviewQueries
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public async Task RecordAsync(RiskReviewView r, CancellationToken cancellationToken)
    {
        var o = r.Opening;
        var now = r.Audit.Count > 0 ? r.Audit[^1].At : o.OpenedAt;
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.Command("""
                INSERT INTO risk_reviews (review_id, payment_id, order_id, buyer_id, seller_id, amount_minor, currency, score, model_version,
                                          status, claimed_by, decided_by, decided_at, created_at, updated_at, document)
                VALUES (@id, @payment, @order, @buyer, @seller, @amount, @currency, @score, @model, @status, @claimedBy, @decidedBy, @decidedAt,
                        @created, @updated, @document)
                ON CONFLICT (review_id) DO UPDATE SET
                    status = excluded.status, claimed_by = excluded.claimed_by, decided_by = excluded.decided_by,
                    decided_at = excluded.decided_at, updated_at = excluded.updated_at, document = excluded.document
                """, transaction)
            .With("id", r.ReviewId).With("payment", o.PaymentId).With("order", o.OrderId).With("buyer", o.BuyerId).With("seller", o.SellerId)
            .With("amount", o.Amount.AmountMinor).With("currency", o.Amount.Currency).With("score", o.Score.Score).With("model", o.Score.ModelVersion)
            .With("status", r.Status.ToString()).With("claimedBy", r.ClaimedBy).With("decidedBy", r.DecidedBy).With("decidedAt", database.ToDb(r.DecidedAt))
            .With("created", database.ToDb(o.OpenedAt)).With("updated", database.ToDb(now)).With("document", JsonSerializer.Serialize(r, Json))
            .ExecuteNonQueryAsync(cancellationToken);
        for (var i = 0; i < r.Audit.Count; i++)
        {
            var a = r.Audit[i];
            await connection.Command("""
                    INSERT INTO risk_review_audit (review_id, seq, at, actor, action, note) VALUES (@id, @seq, @at, @actor, @action, @note)
                    ON CONFLICT (review_id, seq) DO NOTHING
                    """, transaction)
                .With("id", r.ReviewId).With("seq", i).With("at", database.ToDb(a.At)).With("actor", a.Actor).With("action", a.Action).With("note", a.Note)
                .ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<RiskReviewPage> ListAsync(RiskReviewQuery query, CancellationToken cancellationToken)
    {
        var where = new StringBuilder(" WHERE 1 = 1");
        var parameters = new List<(string, object?)>();
        if (query.Status is { } status) { where.Append(" AND status = @status"); parameters.Add(("status", status.ToString())); }
        if (query.MinScore is { } min) { where.Append(" AND score >= @min"); parameters.Add(("min", min)); }
        if (query.MaxScore is { } max) { where.Append(" AND score <= @max"); parameters.Add(("max", max)); }
        if (query.OlderThan is { } older) { where.Append(" AND created_at <= @older"); parameters.Add(("older", database.ToDb(older))); }
        await using var connection = await database.OpenAsync(cancellationToken);
        var count = connection.Command("SELECT COUNT(*) FROM risk_reviews" + where);
        foreach (var (name, value) in parameters) count.With(name, value);
        var total = Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken));
        var select = connection.Command("SELECT document FROM risk_reviews" + where
            + " ORDER BY score DESC, created_at, review_id LIMIT @limit OFFSET @offset");
        foreach (var (name, value) in parameters) select.With(name, value);
        select.With("limit", query.PageSize).With("offset", (query.Page - 1) * query.PageSize);
        var items = new List<RiskReviewView>();
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(JsonSerializer.Deserialize<RiskReviewView>(reader.GetString(0), Json)!);
        }
        return new RiskReviewPage(items, total);
    }

    public async IAsyncEnumerable<RiskReviewView> DecidedAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var reader = await connection.Command("SELECT document FROM risk_reviews WHERE status IN ('Approved', 'Rejected') ORDER BY created_at, review_id")
            .ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return JsonSerializer.Deserialize<RiskReviewView>(reader.GetString(0), Json)!;
        }
    }
}
