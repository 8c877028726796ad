using System.Data.Common;
using System.Text;
using Orleans.Trade.Api.Orders;
using Orleans.Trade.Common;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Silo.Storage;

/// <summary>The order list projection, the notification outbox and service tickets: order grains write, the API reads.</summary>
public sealed class SqlOrderStore(TradeDatabase database, Microsoft.Extensions.Options.IOptions<NotificationOptions>? notificationOptions = null)
    : IOrderQueries, IStateOutboxWriter, Orleans.Trade.Inventory.IPlacedOrders
{
    /// <summary>
    /// With no webhook configured there is nowhere to deliver to: a notification is stored already recorded as skipped (one
    /// attempt, delivered at its own time), so it never enters the dispatcher's due index and costs no second write.
    /// </summary>
    private readonly bool _skipOnInsert = notificationOptions?.Value.WebhookUrl is null;

    /// <summary>An order row commits with the order's first live state, so a row means the order is placed.</summary>
    public async Task<IReadOnlySet<string>> WhichArePlacedAsync(IReadOnlyCollection<string> orderIds, CancellationToken cancellationToken)
    {
        var placed = new HashSet<string>(StringComparer.Ordinal);
        if (orderIds.Count == 0)
        {
            return placed;
        }
        await using var connection = await database.OpenAsync(cancellationToken);
        foreach (var chunk in orderIds.Chunk(database.Provider == StorageProvider.Postgres ? orderIds.Count : 500))
        {
            await using var command = connection.Command("");
            command.CommandText = $"SELECT order_id FROM orders WHERE {command.WithIdsIn(database.Provider, "order_id", chunk)}";
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                placed.Add(reader.GetString(0));
            }
        }
        return placed;
    }

    /// <summary>Order rows of a batch of order writes, inside the storage's transaction (the transactional outbox).</summary>
    public Task WriteAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<object> outboxes, CancellationToken cancellationToken) =>
        WriteAsync(connection, transaction, outboxes.OfType<OrderOutbox>().ToArray(), cancellationToken);

    /// <summary>PostgreSQL: the statements that write these outboxes, in order, for a caller that sends them with its own in one round trip.</summary>
    public IReadOnlyList<DbCommand> PostgresStatements(DbConnection connection, IReadOnlyList<object> outboxes, bool rowsAreNew) =>
        PostgresStatements(connection, outboxes.OfType<OrderOutbox>().ToArray(), rowsAreNew);

    /// <summary>
    /// An order row stored before takes a newer version's changes and keeps its own against an older one. The buyer id too: an
    /// order imported before buyer ids were qualified has its row moved to its owner ('{platform}:{id}') at its next change (an
    /// unchanged id keeps the update HOT).
    /// </summary>
    private const string OrderRowMerge = """
        ON CONFLICT (order_id) DO UPDATE SET
            status = excluded.status, seller_total_minor = excluded.seller_total_minor, buyer_total_minor = excluded.buyer_total_minor,
            late = excluded.late, updated_at = excluded.updated_at, version = excluded.version, buyer_id = excluded.buyer_id
        """;

    /// <summary>The shipment's keys (a ship or its correction moves them; a carrier's feed finds the order by them), then the guard.</summary>
    private const string ShipmentMerge = ", carrier_key = excluded.carrier_key, tracking_key = excluded.tracking_key" +
        ", ship_country = excluded.ship_country, shipped_at = excluded.shipped_at, delivered_at = excluded.delivered_at, complaint = excluded.complaint";

    /// <summary>The shipment's columns: its keys, then what carriers' rates are counted from (R-LOG-7).</summary>
    private const string ShipmentColumns = ", carrier_key, tracking_key, ship_country, shipped_at, delivered_at, complaint";

    /// <summary>What the service score counts of an order with an after-sales fact (R-DAT-4): what the buyer had back, the dispute, the return.</summary>
    private const string AfterSalesColumns = ", refunded_minor, dispute_opened_at, dispute_resolved_at, dispute_outcome, returned";

    private const string AfterSalesMerge = ", refunded_minor = excluded.refunded_minor, dispute_opened_at = excluded.dispute_opened_at" +
        ", dispute_resolved_at = excluded.dispute_resolved_at, dispute_outcome = excluded.dispute_outcome, returned = excluded.returned";

    private const string NewerOnly = " WHERE orders.version <= excluded.version";

    /// <summary>The ad channel and campaign the checkout named (R-DAT-4): written only by a batch with an attributed order.</summary>
    private const string AttributionColumns = ", channel, campaign";

    /// <summary>Never changed once placed; kept when a row is written without it (by a previous release's silo).</summary>
    private const string AttributionMerge = ", channel = COALESCE(excluded.channel, orders.channel), campaign = COALESCE(excluded.campaign, orders.campaign)";

    /// <summary>Whether a row of the batch is an attributed order's: only then does the statement write the channel columns.</summary>
    private static bool AnyAttributed(OrderSummary[] summaries)
    {
        foreach (var summary in summaries)
        {
            if (summary.Channel is not null)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Whether an outbox of the batch carries a paid order's line facts (R-DAT-4): a flash sale's placing write never does.</summary>
    private static bool AnyLineFacts(IReadOnlyList<OrderOutbox> outboxes)
    {
        foreach (var outbox in outboxes)
        {
            if (outbox.LineFacts is { Count: > 0 })
            {
                return true;
            }
        }
        return false;
    }

    private const string LineFactsInsert = """
        INSERT INTO order_line_facts (order_id, line_no, seller_id, created_at, sku_id, category, units, currency, paid_minor, commission_minor,
                                      unit_cost_minor)
        """;

    /// <summary>PostgreSQL: the line facts of paid orders (R-DAT-4), once each (a retried write's are already there).</summary>
    private static DbCommand LineFactsCommand(DbConnection connection, IReadOnlyList<OrderOutbox> outboxes)
    {
        var facts = outboxes.SelectMany(o => o.LineFacts ?? []).ToArray();
        return connection.Command(LineFactsInsert + """

                SELECT * FROM unnest(@factOrders, @factLines, @factSellers, @factCreateds, @factSkus, @factCategories, @factUnits, @factCurrencies,
                                     @factPaids, @factCommissions, @factCosts)
                ON CONFLICT (order_id, line_no) DO NOTHING
                """)
            .With("factOrders", facts.Select(f => f.OrderId).ToArray()).With("factLines", facts.Select(f => f.Line).ToArray())
            .With("factSellers", facts.Select(f => f.SellerId).ToArray()).With("factCreateds", facts.Select(f => f.CreatedAt.UtcDateTime).ToArray())
            .With("factSkus", facts.Select(f => f.SkuId).ToArray()).With("factCategories", facts.Select(f => f.Category).ToArray())
            .With("factUnits", facts.Select(f => f.Units).ToArray()).With("factCurrencies", facts.Select(f => f.Currency).ToArray())
            .With("factPaids", facts.Select(f => f.PaidMinor).ToArray()).With("factCommissions", facts.Select(f => f.CommissionMinor).ToArray())
            .With("factCosts", facts.Select(f => f.UnitCostMinor).ToArray());
    }

    /// <summary>One row per order: the last summary of an order in the batch is its newest.</summary>
    private static OrderSummary[] NewestSummaries(IReadOnlyList<OrderOutbox> outboxes) =>
        outboxes.Select(o => o.Summary).GroupBy(o => o.OrderId).Select(g => g.MaxBy(o => o.Version)!).ToArray();

    /// <summary>
    /// Whether a row of the batch is a shipped order's. Only then does the statement write the shipment columns: a flash sale's
    /// rows (placed, paid) leave them out, as before they existed.
    /// </summary>
    private static bool AnyShipped(OrderSummary[] summaries)
    {
        foreach (var summary in summaries)
        {
            if (summary.TrackingKey is not null)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Whether a row of the batch is an order's with an after-sales fact (a refund, compensation, dispute or return). Only then does
    /// the statement write the after-sales columns: a flash sale's rows leave them out, as before they existed. An order's after-sales
    /// facts are never undone, so a later write of its row without them (a batch of other orders) leaves none behind to clear.
    /// </summary>
    private static bool AnyAfterSales(OrderSummary[] summaries)
    {
        foreach (var summary in summaries)
        {
            if (summary.HasAfterSales)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Upserts the order rows (a newer version never loses to an older one) and inserts notifications once: one statement (the
    /// notifications' insert carries the order rows' upsert as a data-modifying CTE), so one round trip inside the writer's
    /// transaction, or none of its own in a caller's batch: a hot SKU's write waits for every round trip of its transaction.
    /// Then a statement per service ticket (rare: a placed order opens none). With <paramref name="rowsAreNew"/> both are plain
    /// inserts: an <c>ON CONFLICT</c> insert goes through PostgreSQL's speculative insertion (its own WAL record to confirm each row),
    /// a third to a half more time per list row (tests/Orleans.Trade.Benchmarks/Sql/order-row-insert.sql); a row stored before then fails
    /// the statement. The shipment's keys are written only by a batch with a shipped order in it, and the after-sales columns only by
    /// one with a refunded, disputed or returned order: a flash sale's statement is as it was.
    /// </summary>
    private List<DbCommand> PostgresStatements(DbConnection connection, IReadOnlyList<OrderOutbox> outboxes, bool rowsAreNew)
    {
        var statements = new List<DbCommand>();
        if (outboxes.Count == 0)
        {
            return statements;
        }
        var summaries = NewestSummaries(outboxes);
        var notifications = outboxes.SelectMany(o => o.Notifications).ToArray();
        var shipped = AnyShipped(summaries);
        var afterSales = AnyAfterSales(summaries);
        var attributed = AnyAttributed(summaries);
        var command = connection.Command($"""
                    WITH upserted AS (
                        INSERT INTO orders (order_id, buyer_id, seller_id, status, seller_total_minor, seller_currency, buyer_total_minor,
                                            buyer_currency, line_count, source, late, created_at, updated_at, version{(shipped ? ShipmentColumns : "")}{(afterSales ? AfterSalesColumns : "")}{(attributed ? AttributionColumns : "")})
                        SELECT * FROM unnest(@ids, @buyers, @sellers, @statuses, @sellerTotals, @sellerCurrencies, @buyerTotals, @buyerCurrencies,
                                             @lines, @sources, @lates, @createds, @updateds, @versions{(shipped ? ", @carrierKeys, @trackingKeys, @shipCountries, @shippedAts, @deliveredAts, @complaints" : "")}{(afterSales ? ", @refundeds, @disputeOpeneds, @disputeResolveds, @disputeOutcomes, @returneds" : "")}{(attributed ? ", @orderChannels, @orderCampaigns" : "")})
                        {(rowsAreNew ? "" : OrderRowMerge + (shipped ? ShipmentMerge : "") + (afterSales ? AfterSalesMerge : "") + (attributed ? AttributionMerge : "") + NewerOnly)}
                    )
                    INSERT INTO order_notifications (notification_id, order_id, recipient, channels, event, status, created_at, next_attempt_at,
                                                     attempts, delivered_at, last_error)
                    SELECT n.id, n.order_id, n.recipient, n.channels, n.event, n.status, n.at, n.at,
                           CASE WHEN @skip THEN 1 ELSE 0 END, CASE WHEN @skip THEN n.at END, CASE WHEN @skip THEN @skipNote END
                    FROM unnest(@notificationIds, @notificationOrders, @recipients, @channels, @events, @notificationStatuses, @notificationAts)
                         AS n(id, order_id, recipient, channels, event, status, at)
                    {(rowsAreNew ? "" : "ON CONFLICT (notification_id) DO NOTHING")}
                    """);
        command.With("ids", summaries.Select(o => o.OrderId).ToArray()).With("buyers", summaries.Select(o => o.BuyerId).ToArray())
            .With("sellers", summaries.Select(o => o.SellerId).ToArray()).With("statuses", summaries.Select(o => o.Status.ToString()).ToArray())
            .With("sellerTotals", summaries.Select(o => o.SellerTotal.AmountMinor).ToArray())
            .With("sellerCurrencies", summaries.Select(o => o.SellerTotal.Currency).ToArray())
            .With("buyerTotals", summaries.Select(o => o.BuyerTotal.AmountMinor).ToArray())
            .With("buyerCurrencies", summaries.Select(o => o.BuyerTotal.Currency).ToArray())
            .With("lines", summaries.Select(o => o.LineCount).ToArray()).With("sources", summaries.Select(o => o.Source.ToString()).ToArray())
            .With("lates", summaries.Select(o => o.Late).ToArray())
            .With("createds", summaries.Select(o => o.CreatedAt.UtcDateTime).ToArray())
            .With("updateds", summaries.Select(o => o.UpdatedAt.UtcDateTime).ToArray())
            .With("versions", summaries.Select(o => o.Version).ToArray())
            .With("skip", _skipOnInsert).With("skipNote", NotificationDispatcher.SkippedNote)
            .With("notificationIds", notifications.Select(n => n.NotificationId).ToArray())
            .With("notificationOrders", notifications.Select(n => n.OrderId).ToArray())
            .With("recipients", notifications.Select(n => n.Recipient).ToArray()).With("channels", notifications.Select(n => n.Channels).ToArray())
            .With("events", notifications.Select(n => n.Event).ToArray())
            .With("notificationStatuses", notifications.Select(n => n.Status.ToString()).ToArray())
            .WithTimestamps("notificationAts", notifications.Select(n => (DateTimeOffset?)n.At));
        if (shipped)
        {
            command.With("carrierKeys", summaries.Select(o => o.CarrierKey).ToArray()).With("trackingKeys", summaries.Select(o => o.TrackingKey).ToArray())
                .With("shipCountries", summaries.Select(o => o.ShipCountry).ToArray()).WithTimestamps("shippedAts", summaries.Select(o => o.ShippedAt))
                .WithTimestamps("deliveredAts", summaries.Select(o => o.DeliveredAt)).With("complaints", summaries.Select(o => o.Complaint).ToArray());
        }
        if (afterSales)
        {
            command.With("refundeds", summaries.Select(o => o.RefundedMinor).ToArray())
                .WithTimestamps("disputeOpeneds", summaries.Select(o => o.DisputeOpenedAt))
                .WithTimestamps("disputeResolveds", summaries.Select(o => o.DisputeResolvedAt))
                .With("disputeOutcomes", summaries.Select(o => o.DisputeOutcome).ToArray()).With("returneds", summaries.Select(o => o.Returned).ToArray());
        }
        if (attributed)
        {
            command.With("orderChannels", summaries.Select(o => o.Channel).ToArray()).With("orderCampaigns", summaries.Select(o => o.Campaign).ToArray());
        }
        statements.Add(command);
        if (AnyLineFacts(outboxes))
        {
            statements.Add(LineFactsCommand(connection, outboxes));
        }
        statements.AddRange(outboxes.SelectMany(o => o.Tickets).Select(t => TicketCommand(connection, null, t)));
        statements.AddRange(TicketClosures(outboxes).Select(c => TicketClosureCommand(connection, null, c)));
        return statements;
    }

    /// <summary>Upserts the order rows (a newer version never loses to an older one) and inserts notifications and tickets once.</summary>
    private async Task WriteAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<OrderOutbox> outboxes, CancellationToken cancellationToken)
    {
        if (outboxes.Count == 0)
        {
            return;
        }
        if (database.Provider == StorageProvider.Postgres)
        {
            foreach (var statement in PostgresStatements(connection, outboxes, rowsAreNew: false))
            {
                await using (statement)
                {
                    statement.Transaction = transaction;
                    await statement.ExecuteNonQueryAsync(cancellationToken);
                }
            }
            return;
        }
        foreach (var o in NewestSummaries(outboxes))
        {
            await connection.Command("""
                    INSERT INTO orders (order_id, buyer_id, seller_id, status, seller_total_minor, seller_currency, buyer_total_minor, buyer_currency,
                                        line_count, source, late, created_at, updated_at, version, carrier_key, tracking_key, ship_country, shipped_at,
                                        delivered_at, complaint, refunded_minor, dispute_opened_at, dispute_resolved_at, dispute_outcome, returned, channel, campaign)
                    VALUES (@id, @buyer, @seller, @status, @sellerTotal, @sellerCurrency, @buyerTotal, @buyerCurrency, @lines, @source, @late, @created, @updated,
                            @version, @carrierKey, @trackingKey, @shipCountry, @shippedAt, @deliveredAt, @complaint, @refunded, @disputeOpened,
                            @disputeResolved, @disputeOutcome, @returned, @channel, @campaign)
                    ON CONFLICT (order_id) DO UPDATE SET
                        status = excluded.status, seller_total_minor = excluded.seller_total_minor, buyer_total_minor = excluded.buyer_total_minor,
                        late = excluded.late, updated_at = excluded.updated_at, version = excluded.version, buyer_id = excluded.buyer_id,
                        carrier_key = excluded.carrier_key, tracking_key = excluded.tracking_key, ship_country = excluded.ship_country,
                        shipped_at = excluded.shipped_at, delivered_at = excluded.delivered_at, complaint = excluded.complaint,
                        refunded_minor = excluded.refunded_minor, dispute_opened_at = excluded.dispute_opened_at,
                        dispute_resolved_at = excluded.dispute_resolved_at, dispute_outcome = excluded.dispute_outcome, returned = excluded.returned,
                        channel = COALESCE(excluded.channel, orders.channel), campaign = COALESCE(excluded.campaign, orders.campaign)
                    WHERE orders.version <= excluded.version
                    """, transaction)
                .With("carrierKey", o.CarrierKey).With("trackingKey", o.TrackingKey).With("shipCountry", o.ShipCountry)
                .With("shippedAt", database.ToDb(o.ShippedAt)).With("deliveredAt", database.ToDb(o.DeliveredAt)).With("complaint", o.Complaint)
                .With("refunded", o.RefundedMinor).With("disputeOpened", database.ToDb(o.DisputeOpenedAt))
                .With("disputeResolved", database.ToDb(o.DisputeResolvedAt)).With("disputeOutcome", o.DisputeOutcome).With("returned", o.Returned)
                .With("channel", o.Channel).With("campaign", o.Campaign)
                .With("id", o.OrderId).With("buyer", o.BuyerId).With("seller", o.SellerId).With("status", o.Status.ToString())
                .With("sellerTotal", o.SellerTotal.AmountMinor).With("sellerCurrency", o.SellerTotal.Currency)
                .With("buyerTotal", o.BuyerTotal.AmountMinor).With("buyerCurrency", o.BuyerTotal.Currency)
                .With("lines", o.LineCount).With("source", o.Source.ToString()).With("late", o.Late)
                .With("created", database.ToDb(o.CreatedAt)).With("updated", database.ToDb(o.UpdatedAt)).With("version", o.Version)
                .ExecuteNonQueryAsync(cancellationToken);
        }
        foreach (var f in outboxes.SelectMany(o => o.LineFacts ?? []))
        {
            await connection.Command(LineFactsInsert + """

                    VALUES (@order, @line, @seller, @created, @sku, @category, @units, @currency, @paid, @commission, @cost)
                    ON CONFLICT (order_id, line_no) DO NOTHING
                    """, transaction)
                .With("order", f.OrderId).With("line", f.Line).With("seller", f.SellerId).With("created", database.ToDb(f.CreatedAt))
                .With("sku", f.SkuId).With("category", f.Category).With("units", f.Units).With("currency", f.Currency).With("paid", f.PaidMinor)
                .With("commission", f.CommissionMinor).With("cost", f.UnitCostMinor)
                .ExecuteNonQueryAsync(cancellationToken);
        }
        foreach (var n in outboxes.SelectMany(o => o.Notifications))
        {
            await connection.Command("""
                    INSERT INTO order_notifications (notification_id, order_id, recipient, channels, event, status, created_at, next_attempt_at,
                                                     attempts, delivered_at, last_error)
                    VALUES (@id, @order, @recipient, @channels, @event, @status, @at, @at, @attempts, @delivered, @note)
                    ON CONFLICT (notification_id) DO NOTHING
                    """, transaction)
                .With("attempts", _skipOnInsert ? 1 : 0).With("delivered", _skipOnInsert ? database.ToDb(n.At) : DBNull.Value)
                .With("note", _skipOnInsert ? NotificationDispatcher.SkippedNote : null)
                .With("id", n.NotificationId).With("order", n.OrderId).With("recipient", n.Recipient).With("channels", n.Channels)
                .With("event", n.Event).With("status", n.Status.ToString()).With("at", database.ToDb(n.At))
                .ExecuteNonQueryAsync(cancellationToken);
        }
        foreach (var t in outboxes.SelectMany(o => o.Tickets))
        {
            await using var ticket = TicketCommand(connection, transaction, t);
            await ticket.ExecuteNonQueryAsync(cancellationToken);
        }
        foreach (var ended in TicketClosures(outboxes))
        {
            await using var closure = TicketClosureCommand(connection, transaction, ended);
            await closure.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>The order's open tickets of a kind whose exception its change ended (rare: a late order shipping, a stalled one delivered).</summary>
    private static IEnumerable<(string OrderId, string Kind, DateTimeOffset At, OrderStatus Status)> TicketClosures(IReadOnlyList<OrderOutbox> outboxes) =>
        outboxes.SelectMany(o => (o.ClosedTicketKinds ?? []).Select(kind => (o.Summary.OrderId, kind, o.Summary.UpdatedAt, o.Summary.Status)));

    /// <summary>Closes the order's open tickets of a kind, recording the change that ended them (by the system, at its time).</summary>
    private DbCommand TicketClosureCommand(DbConnection connection, DbTransaction? transaction, (string OrderId, string Kind, DateTimeOffset At, OrderStatus Status) ended) =>
        connection.Command("""
                UPDATE service_tickets SET status = 'Closed', closed_by = 'system', closed_at = @at, closed_note = @note
                WHERE order_id = @order AND kind = @kind AND status = 'Open'
                """, transaction)
            .With("order", ended.OrderId).With("kind", ended.Kind).With("at", database.ToDb(ended.At))
            .With("note", $"ended by the order's own change (order {System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(ended.Status.ToString())})");

    private DbCommand TicketCommand(DbConnection connection, DbTransaction? transaction, ServiceTicket t) =>
        connection.Command("""
                INSERT INTO service_tickets (ticket_id, order_id, seller_id, kind, description, opened_at, due_at, remedy)
                VALUES (@id, @order, @seller, @kind, @description, @opened, @due, @remedy)
                ON CONFLICT (ticket_id) DO NOTHING
                """, transaction)
            .With("remedy", t.Remedy)
            .With("id", t.TicketId).With("order", t.OrderId).With("seller", t.SellerId).With("kind", t.Kind)
            .With("description", t.Description).With("opened", database.ToDb(t.OpenedAt)).With("due", database.ToDb(t.DueAt));

    public async Task<OrderListPage> ListAsync(OrderListQuery query, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var where = new StringBuilder(" WHERE 1 = 1");
        var parameters = new List<(string, object?)>();
        void Filter(string clause, string name, object? value)
        {
            where.Append(clause);
            parameters.Add((name, value));
        }
        if (query.SellerId is not null) Filter(" AND seller_id = @seller", "seller", query.SellerId);
        // An import's row names the other platform's buyer ('{platform}:{id}'); one stored before imports qualified the id, and
        // not changed since, still has the bare id, which is not this platform's buyer of that id: it is left out of buyer lists.
        if (query.BuyerId is not null) Filter(" AND buyer_id = @buyer AND (source <> 'Import' OR buyer_id LIKE '%:%')", "buyer", query.BuyerId);
        if (query.Status is { } status) Filter(" AND status = @status", "status", status.ToString());
        if (query.From is { } from) Filter(" AND created_at >= @from", "from", database.ToDb(from));
        if (query.To is { } to) Filter(" AND created_at < @to", "to", database.ToDb(to));

        long? total = null;
        if (query.After is { } after)
        {
            // Keyset paging: the seller's or buyer's index is read from the cursor on, however deep the page.
            Filter(" AND (created_at, order_id) < (@after_at, @after_id)", "after_at", database.ToDb(after.CreatedAt));
            parameters.Add(("after_id", after.OrderId));
        }
        else
        {
            await using var count = connection.Command("SELECT COUNT(*) FROM orders" + where);
            foreach (var (name, value) in parameters) count.With(name, value);
            total = Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken));
        }

        // One more than the page, to know whether another follows.
        await using var select = connection.Command(
            "SELECT order_id, buyer_id, seller_id, status, seller_total_minor, seller_currency, buyer_total_minor, buyer_currency, " +
            "line_count, source, late, created_at, updated_at, version, channel, campaign FROM orders" + where +
            " ORDER BY created_at DESC, order_id DESC LIMIT @limit OFFSET @offset");
        foreach (var (name, value) in parameters) select.With(name, value);
        select.With("limit", query.PageSize + 1).With("offset", query.After is null ? (long)(query.Page - 1) * query.PageSize : 0L);
        var items = new List<OrderSummary>();
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(new OrderSummary(reader.GetString(0), reader.GetString(1), reader.GetString(2), Enum.Parse<OrderStatus>(reader.GetString(3)),
                new Money(reader.GetInt64(4), reader.GetString(5)), new Money(reader.GetInt64(6), reader.GetString(7)), reader.GetInt32(8),
                Enum.Parse<OrderSource>(reader.GetString(9)), reader.GetBoolean(10), TradeDatabase.FromDb(reader.GetValue(11)),
                TradeDatabase.FromDb(reader.GetValue(12)), reader.GetInt64(13),
                Channel: reader.IsDBNull(14) ? null : reader.GetString(14), Campaign: reader.IsDBNull(15) ? null : reader.GetString(15)));
        }
        var more = items.Count > query.PageSize;
        if (more)
        {
            items.RemoveAt(items.Count - 1);
        }
        return new OrderListPage(items, total, more ? OrderListCursor.After(items[^1]) : null);
    }

    public async Task<IReadOnlyList<CarrierCountryStats>> CarrierShipmentsAsync(DateTimeOffset from, DateTimeOffset to, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var stats = new Dictionary<(string, string), CarrierCountryStats>();
        await using var connection = await database.OpenAsync(cancellationToken);
        // Through the partial index orders_by_shipped_at: the orders shipped in the window, and nothing of the unshipped.
        await using var command = connection.Command("""
            SELECT carrier_key, ship_country, shipped_at, delivered_at, complaint FROM orders
            WHERE shipped_at IS NOT NULL AND shipped_at >= @from AND shipped_at < @to AND carrier_key IS NOT NULL AND ship_country IS NOT NULL
            """).With("from", database.ToDb(from)).With("to", database.ToDb(to));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var key = (reader.GetString(0), reader.GetString(1));
            if (!stats.TryGetValue(key, out var row))
            {
                stats[key] = row = new CarrierCountryStats(key.Item1, key.Item2);
            }
            row.Add(TradeDatabase.FromDb(reader.GetValue(2)), TradeDatabase.FromDbNullable(reader.GetValue(3)),
                reader.IsDBNull(4) ? null : reader.GetString(4), now);
        }
        return stats.Values.OrderBy(s => s.CarrierKey, StringComparer.Ordinal).ThenBy(s => s.Country, StringComparer.Ordinal).ToArray();
    }

    public async Task<IReadOnlyList<SellerShippingStats>> ShippingTimesAsync(DateTimeOffset from, DateTimeOffset to, string? sellerId,
        CancellationToken cancellationToken)
    {
        var stats = new Dictionary<string, SellerShippingStats>(StringComparer.Ordinal);
        await using var connection = await database.OpenAsync(cancellationToken);
        // Through the partial index orders_by_shipped_at, as the carriers' rates read them.
        await using var command = connection.Command($"""
            SELECT seller_id, created_at, shipped_at, delivered_at, ship_country, late FROM orders
            WHERE shipped_at IS NOT NULL AND shipped_at >= @from AND shipped_at < @to AND ship_country IS NOT NULL
            {(sellerId is null ? "" : "AND seller_id = @seller")}
            """).With("from", database.ToDb(from)).With("to", database.ToDb(to));
        if (sellerId is not null)
        {
            command.With("seller", sellerId);
        }
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var seller = reader.GetString(0);
            if (!stats.TryGetValue(seller, out var row))
            {
                stats[seller] = row = new SellerShippingStats(seller);
            }
            row.Add(TradeDatabase.FromDb(reader.GetValue(1)), TradeDatabase.FromDb(reader.GetValue(2)), TradeDatabase.FromDbNullable(reader.GetValue(3)),
                reader.GetString(4), Convert.ToBoolean(reader.GetValue(5)));
        }
        return stats.Values.OrderBy(s => s.SellerId, StringComparer.Ordinal).ToArray();
    }

    public async Task<IReadOnlyList<SellerServiceStats>> ServiceStatsAsync(DateTimeOffset from, DateTimeOffset to, string? sellerId,
        CancellationToken cancellationToken)
    {
        var stats = new Dictionary<string, SellerServiceStats>(StringComparer.Ordinal);
        SellerServiceStats Of(string seller) => stats.TryGetValue(seller, out var row) ? row : stats[seller] = new SellerServiceStats(seller);
        var where = $" WHERE o.created_at >= @from AND o.created_at < @to AND {AfterSalesCounting.Condition("o")}" + (sellerId is null ? "" : " AND o.seller_id = @seller");
        var lost = string.Join(", ", DisputeOutcomes.LostBySeller.Select(o => $"'{o}'"));
        await using var connection = await database.OpenAsync(cancellationToken);
        // Counted by the database per seller and currency: one row each, however many orders (a seller's through its index).
        await using (var counts = connection.Command($"""
            SELECT o.seller_id, o.seller_currency, COUNT(*), SUM(o.seller_total_minor),
                   SUM(CASE WHEN o.refunded_minor > 0 THEN 1 ELSE 0 END), SUM(COALESCE(o.refunded_minor, 0)),
                   SUM(CASE WHEN o.dispute_opened_at IS NOT NULL THEN 1 ELSE 0 END),
                   SUM(CASE WHEN o.dispute_outcome IN ({lost}) THEN 1 ELSE 0 END),
                   SUM(CASE WHEN o.returned THEN 1 ELSE 0 END), SUM(CASE WHEN o.late THEN 1 ELSE 0 END)
            FROM orders o{where}
            GROUP BY o.seller_id, o.seller_currency
            """).With("from", database.ToDb(from)).With("to", database.ToDb(to)).WithSeller(sellerId))
        {
            await using var reader = await counts.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var row = Of(reader.GetString(0));
                row.Orders += Convert.ToInt64(reader.GetValue(2));
                row.Amounts[reader.GetString(1)] = (Convert.ToInt64(reader.GetValue(3)), Convert.ToInt64(reader.GetValue(5)));
                row.Refunded += Convert.ToInt64(reader.GetValue(4));
                row.Disputes += Convert.ToInt64(reader.GetValue(6));
                row.DisputesLost += Convert.ToInt64(reader.GetValue(7));
                row.Returns += Convert.ToInt64(reader.GetValue(8));
                row.Late += Convert.ToInt64(reader.GetValue(9));
            }
        }
        // The disputes, for their resolution times (few beside the orders).
        await using (var disputes = connection.Command($"""
            SELECT o.seller_id, o.dispute_opened_at, o.dispute_resolved_at, o.dispute_outcome FROM orders o{where} AND o.dispute_opened_at IS NOT NULL
            """).With("from", database.ToDb(from)).With("to", database.ToDb(to)).WithSeller(sellerId))
        {
            await using var reader = await disputes.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var row = Of(reader.GetString(0));
                var opened = TradeDatabase.FromDb(reader.GetValue(1));
                var outcome = reader.IsDBNull(3) ? null : reader.GetString(3);
                if (outcome is null)
                {
                    row.Open.Add(opened);
                }
                else if (outcome != DisputeOutcomes.Withdrawn && TradeDatabase.FromDbNullable(reader.GetValue(2)) is { } resolved)
                {
                    row.Resolved.Add((opened, resolved));
                }
            }
        }
        return stats.Values.ToArray();
    }

    public async Task<RetentionStats> RetentionAsync(DateTimeOffset from, DateTimeOffset to, string? sellerId, CancellationToken cancellationToken)
    {
        var sellers = new SortedDictionary<string, RetentionCounts>(StringComparer.Ordinal);
        var totals = new RetentionCounts();
        var counted = AfterSalesCounting.Condition("p");
        await using var connection = await database.OpenAsync(cancellationToken);
        // One row per buyer and seller, in buyer order; whether the buyer ordered before the window is asked of the buyer's index.
        await using var command = connection.Command($"""
            SELECT o.buyer_id, o.seller_id, COUNT(*),
                   CASE WHEN EXISTS (SELECT 1 FROM orders p WHERE p.buyer_id = o.buyer_id AND p.seller_id = o.seller_id AND p.created_at < @from
                                     AND {counted}) THEN 1 ELSE 0 END,
                   CASE WHEN EXISTS (SELECT 1 FROM orders p WHERE p.buyer_id = o.buyer_id AND p.created_at < @from AND {counted}) THEN 1 ELSE 0 END
            FROM orders o
            WHERE o.created_at >= @from AND o.created_at < @to AND {AfterSalesCounting.Condition("o")}{(sellerId is null ? "" : " AND o.seller_id = @seller")}
            GROUP BY o.buyer_id, o.seller_id
            ORDER BY o.buyer_id
            """).With("from", database.ToDb(from)).With("to", database.ToDb(to)).WithSeller(sellerId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        string? buyer = null;
        long buyerOrders = 0;
        var buyerReturning = false;
        void EndBuyer()
        {
            if (buyer is null) return;
            totals.Buyers++;
            totals.Orders += buyerOrders;
            if (buyerOrders >= 2) totals.RepeatBuyers++;
            if (buyerReturning) totals.ReturningBuyers++;
        }
        while (await reader.ReadAsync(cancellationToken))
        {
            var rowBuyer = reader.GetString(0);
            if (rowBuyer != buyer)
            {
                EndBuyer();
                (buyer, buyerOrders, buyerReturning) = (rowBuyer, 0, false);
            }
            var orders = Convert.ToInt64(reader.GetValue(2));
            var returningToSeller = Convert.ToInt64(reader.GetValue(3)) != 0;
            buyerOrders += orders;
            buyerReturning |= sellerId is null ? Convert.ToInt64(reader.GetValue(4)) != 0 : returningToSeller;
            var seller = reader.GetString(1);
            if (!sellers.TryGetValue(seller, out var counts))
            {
                sellers[seller] = counts = new RetentionCounts();
            }
            counts.Buyers++;
            counts.Orders += orders;
            if (orders >= 2) counts.RepeatBuyers++;
            if (returningToSeller) counts.ReturningBuyers++;
        }
        EndBuyer();
        return new RetentionStats(totals, sellers.Select(s => (s.Key, s.Value)).ToArray());
    }

    public async Task<IReadOnlyList<TrackedOrder>> TrackedOrdersAsync(string carrierKey, IReadOnlyList<string> trackingKeys, int perKey,
        CancellationToken cancellationToken)
    {
        var found = new List<TrackedOrder>();
        if (trackingKeys.Count == 0)
        {
            return found;
        }
        await using var connection = await database.OpenAsync(cancellationToken);
        foreach (var chunk in trackingKeys.Distinct(StringComparer.Ordinal).Chunk(database.Provider == StorageProvider.Postgres ? int.MaxValue : 500))
        {
            await using var command = connection.Command("");
            // Through the partial index orders_by_tracking, at most perKey rows a tracking number (one a seller typed on many orders
            // cannot make the read unbounded).
            command.CommandText = database.Provider == StorageProvider.Postgres
                ? """
                  SELECT k.key, o.order_id, o.seller_id FROM unnest(@keys) AS k(key)
                  CROSS JOIN LATERAL (SELECT order_id, seller_id FROM orders
                                      WHERE carrier_key = @carrier AND tracking_key = k.key ORDER BY order_id LIMIT @perKey) o
                  """
                : $"""
                  SELECT tracking_key, order_id, seller_id FROM orders
                  WHERE carrier_key = @carrier AND {command.WithIdsIn(database.Provider, "tracking_key", chunk, "keys")} ORDER BY tracking_key, order_id
                  """;
            if (database.Provider == StorageProvider.Postgres)
            {
                command.With("keys", chunk);
            }
            command.With("carrier", carrierKey).With("perKey", perKey);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var counts = new Dictionary<string, int>(StringComparer.Ordinal);
            while (await reader.ReadAsync(cancellationToken))
            {
                var key = reader.GetString(0);
                if ((counts[key] = counts.GetValueOrDefault(key) + 1) <= perKey)
                {
                    found.Add(new TrackedOrder(key, reader.GetString(1), reader.GetString(2)));
                }
            }
        }
        return found;
    }

    public async Task<TicketClosureOutcome> CloseTicketAsync(string ticketId, string closedBy, DateTimeOffset at, string note,
        CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var close = connection.Command("""
                UPDATE service_tickets SET status = 'Closed', closed_by = @by, closed_at = @at, closed_note = @note
                WHERE ticket_id = @id AND status = 'Open'
                """)
            .With("id", ticketId).With("by", closedBy).With("at", database.ToDb(at)).With("note", note);
        if (await close.ExecuteNonQueryAsync(cancellationToken) == 1)
        {
            return TicketClosureOutcome.Closed;
        }
        await using var exists = connection.Command("SELECT 1 FROM service_tickets WHERE ticket_id = @id").With("id", ticketId);
        return await exists.ExecuteScalarAsync(cancellationToken) is null ? TicketClosureOutcome.NotFound : TicketClosureOutcome.AlreadyClosed;
    }

    public async Task<IReadOnlyList<ServiceTicketRow>> TicketsAsync(TicketQuery query, CancellationToken cancellationToken)
    {
        // Open tickets earliest due first (the work queue); closed ones newest first (the history), both by keyset after a
        // ticket of the page before. A ticket's due time never changes, so a cursor ticket closed since its page was read (the
        // usual case: customer service closes what it handled, then asks for the next page) still marks where that page ended;
        // a cursor ticket that does not exist ends the list.
        var sql = new StringBuilder(
            "SELECT ticket_id, order_id, seller_id, kind, description, opened_at, due_at, closed_by, closed_at, closed_note, remedy FROM service_tickets WHERE status = @status");
        var parameters = new List<(string, object)> { ("status", query.Closed ? "Closed" : "Open"), ("limit", query.Limit) };
        if (query.SellerId is { } seller) { sql.Append(" AND seller_id = @seller"); parameters.Add(("seller", seller)); }
        if (query.Kind is { } kind) { sql.Append(" AND kind = @kind"); parameters.Add(("kind", kind)); }
        if (query.OrderId is { } order) { sql.Append(" AND order_id = @order"); parameters.Add(("order", order)); }
        if (query.After is { } after)
        {
            sql.Append(query.Closed
                ? " AND ticket_id < @after"
                : " AND (due_at, ticket_id) > (SELECT due_at, ticket_id FROM service_tickets WHERE ticket_id = @after)");
            parameters.Add(("after", after));
        }
        sql.Append(query.Closed ? " ORDER BY ticket_id DESC" : " ORDER BY due_at, ticket_id").Append(" LIMIT @limit");
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(sql.ToString());
        foreach (var (name, value) in parameters)
        {
            command.With(name, value);
        }
        var tickets = new List<ServiceTicketRow>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            tickets.Add(new ServiceTicketRow(new ServiceTicket(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                    reader.GetString(4), TradeDatabase.FromDb(reader.GetValue(5)), TradeDatabase.FromDb(reader.GetValue(6)),
                    reader.IsDBNull(10) ? null : reader.GetString(10)), query.Closed,
                reader.IsDBNull(7) ? null : reader.GetString(7), reader.IsDBNull(8) ? null : TradeDatabase.FromDb(reader.GetValue(8)),
                reader.IsDBNull(9) ? null : reader.GetString(9)));
        }
        return tickets;
    }
}

internal static class SellerFilter
{
    /// <summary>The <c>@seller</c> parameter of a query filtered by seller; none for a query of all sellers.</summary>
    public static DbCommand WithSeller(this DbCommand command, string? sellerId) => sellerId is null ? command : command.With("seller", sellerId);
}
