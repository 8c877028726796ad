using Orleans.Trade.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Orleans.Trade.Benchmarks.Harness;

// The same shape as the product's checkout request (api/Orders/OrderContracts.cs), so both endpoints parse the same JSON.
public sealed record PeerAddress(string? Name, string? Line1, string? Line2, string? City, string? Region, string? PostalCode, string? Country, string? Phone);

public sealed record PeerLine(string? SkuId, long? Quantity);

public sealed record PeerPayment(string? Method, string? CardToken, string? WalletAccount, int? Instalments);

public sealed record PeerCheckoutRequest(string? BuyerId, string? Currency, PeerAddress? ShipTo, IReadOnlyList<PeerLine?>? Items, string? CouponCode, PeerPayment? Payment);

public sealed record PeerOrder(string OrderId);

/// <summary>
/// The two yardsticks, served by a minimal Kestrel app on loopback inside the harness and driven by the same load generator:
/// <list type="bullet">
/// <item><c>POST /peer/checkout</c>: what a relational shop does — one transaction per checkout, a guarded
/// <c>UPDATE peer_stock SET qty = qty - n WHERE sku_id = … AND qty &gt;= n</c> per line, then the order INSERT, then COMMIT
/// (durable: the same PostgreSQL with fsync and synchronous commit on). A line that cannot be had rolls back and answers 409.</item>
/// <item><c>POST /ceiling/checkout</c>: parses the same JSON and answers 201 without any work — what HTTP and JSON alone cost here.</item>
/// </list>
/// </summary>
public sealed class PeerShop : IAsyncDisposable
{
    private const int MaxLines = 100;
    private readonly WebApplication _app;
    private readonly NpgsqlDataSource _db;

    private PeerShop(WebApplication app, NpgsqlDataSource db, Uri baseAddress)
    {
        _app = app;
        _db = db;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public static async Task<PeerShop> StartAsync(string connectionString)
    {
        var port = FreePorts.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxConcurrentConnections = null);
        // The same pool size the silo gets from deploy/dev-postgres.sh's connection string (64).
        var db = NpgsqlDataSource.Create(connectionString);
        var app = builder.Build();
        app.MapPost("/peer/checkout", (PeerCheckoutRequest request, HttpContext http) => PeerCheckoutAsync(db, request, http));
        app.MapPost("/ceiling/checkout", (PeerCheckoutRequest request, HttpContext http) => Ceiling(request, http));
        await app.StartAsync();
        return new PeerShop(app, db, new Uri($"http://127.0.0.1:{port}/"));
    }

    /// <summary>The peer's schema: a stock row per SKU and an order row per line; the idempotency key is unique, as a shop's would be.</summary>
    public async Task LoadStockAsync(string skuId, long quantity)
    {
        await using var command = _db.CreateCommand("""
            DROP TABLE IF EXISTS peer_orders;
            DROP TABLE IF EXISTS peer_stock;
            CREATE TABLE peer_stock (sku_id text PRIMARY KEY, qty bigint NOT NULL CHECK (qty >= 0));
            CREATE TABLE peer_orders (
                order_id        uuid        PRIMARY KEY,
                idempotency_key text        NOT NULL,
                line_no         integer     NOT NULL,
                buyer_id        text        NOT NULL,
                sku_id          text        NOT NULL,
                quantity        bigint      NOT NULL CHECK (quantity > 0),
                created_at      timestamptz NOT NULL DEFAULT now(),
                UNIQUE (idempotency_key, line_no));
            """);
        await command.ExecuteNonQueryAsync();
        await using var load = _db.CreateCommand("INSERT INTO peer_stock (sku_id, qty) VALUES ($1, $2)");
        load.Parameters.Add(new NpgsqlParameter { Value = skuId });
        load.Parameters.Add(new NpgsqlParameter { Value = quantity });
        await load.ExecuteNonQueryAsync();
    }

    /// <summary>The peer's invariant: units in orders + units left = units loaded, and nothing below zero.</summary>
    public async Task<(long Ordered, long Orders, long Remaining)> CountAsync(string skuId)
    {
        await using var command = _db.CreateCommand(
            "SELECT (SELECT coalesce(sum(quantity), 0) FROM peer_orders WHERE sku_id = $1), (SELECT count(DISTINCT order_id) FROM peer_orders WHERE sku_id = $1), (SELECT qty FROM peer_stock WHERE sku_id = $1)");
        command.Parameters.Add(new NpgsqlParameter { Value = skuId });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }

    private static bool IsValid(PeerCheckoutRequest request, HttpContext http) =>
        http.Request.Headers["Idempotency-Key"].ToString() is { Length: >= 8 and <= 100 }
        && request.BuyerId is { Length: > 0 } && request.Currency is { Length: 3 } && request.ShipTo?.Country is { Length: 2 }
        && request.Items is { Count: > 0 and <= MaxLines } items && items.All(l => l?.SkuId is { Length: > 0 } && l.Quantity is > 0);

    private static IResult Ceiling(PeerCheckoutRequest request, HttpContext http) =>
        IsValid(request, http) ? Results.Json(new PeerOrder("ceiling"), statusCode: StatusCodes.Status201Created) : Results.BadRequest();

    private static async Task<IResult> PeerCheckoutAsync(NpgsqlDataSource db, PeerCheckoutRequest request, HttpContext http)
    {
        if (!IsValid(request, http))
        {
            return Results.BadRequest();
        }
        var key = http.Request.Headers["Idempotency-Key"].ToString();
        var orderId = Guid.NewGuid();
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var lineNo = 0;
        foreach (var line in request.Items!)
        {
            await using var take = new NpgsqlCommand("UPDATE peer_stock SET qty = qty - $2 WHERE sku_id = $1 AND qty >= $2", connection, transaction);
            take.Parameters.Add(new NpgsqlParameter { Value = line!.SkuId! });
            take.Parameters.Add(new NpgsqlParameter { Value = line.Quantity!.Value });
            if (await take.ExecuteNonQueryAsync() != 1)
            {
                await transaction.RollbackAsync();
                return Results.Conflict(new { title = "out of stock", skuId = line.SkuId });
            }
            await using var insert = new NpgsqlCommand(
                "INSERT INTO peer_orders (order_id, idempotency_key, line_no, buyer_id, sku_id, quantity) VALUES ($1, $2, $3, $4, $5, $6)", connection, transaction);
            insert.Parameters.Add(new NpgsqlParameter { Value = lineNo == 0 ? orderId : Guid.NewGuid() });
            insert.Parameters.Add(new NpgsqlParameter { Value = key });
            insert.Parameters.Add(new NpgsqlParameter { Value = lineNo++ });
            insert.Parameters.Add(new NpgsqlParameter { Value = request.BuyerId! });
            insert.Parameters.Add(new NpgsqlParameter { Value = line.SkuId! });
            insert.Parameters.Add(new NpgsqlParameter { Value = line.Quantity.Value });
            await insert.ExecuteNonQueryAsync();
        }
        await transaction.CommitAsync();
        return Results.Json(new PeerOrder(orderId.ToString()), statusCode: StatusCodes.Status201Created);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _db.DisposeAsync();
    }
}
