using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Trade.Orders;
using Orleans.Trade.Payments;
using Orleans.Trade.Payments.Sandbox;
using Orleans.Trade.Risk;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;

namespace Orleans.Trade.Tests.Hosting;

/// <summary>
/// Grains made one per checkout (order, payment, the sandbox PSP's payment) leave memory after a short idle time of their own,
/// so a long flash sale does not hold every order it took; other grains keep the general collection age. An order placed without
/// an inline payment by the checkout saga does not even wait for that: it leaves as soon as its checkout has answered; one placed
/// by its SKU (a one-line cart) is not activated at all until it is read.
/// </summary>
public sealed class IdleCollectionTests
{
    [Fact]
    public void Per_checkout_grains_have_a_short_idle_age_by_default_and_configuration_overrides_it()
    {
        using var host = SiloInspection.BuildUnstartedSilo(new Dictionary<string, string?>());
        var options = host.Services.GetRequiredService<IOptions<GrainCollectionOptions>>().Value;
        Assert.Equal(TimeSpan.FromMinutes(2), options.CollectionAge);
        Assert.True(options.CollectionQuantum < TimeSpan.FromSeconds(30), $"quantum {options.CollectionQuantum}");
        foreach (var type in new[] { typeof(OrderGrain), typeof(PaymentGrain), typeof(SandboxPspPaymentGrain), typeof(CheckoutGrain) })
        {
            Assert.Equal(TimeSpan.FromSeconds(30), options.ClassSpecificCollectionAge[type.FullName!]);
        }
        Assert.False(options.ClassSpecificCollectionAge.ContainsKey(typeof(RiskProfileGrain).FullName!));

        using var configured = SiloInspection.BuildUnstartedSilo(new Dictionary<string, string?>
        {
            [$"Orleans:GrainCollection:ClassSpecificCollectionAge:{typeof(OrderGrain).FullName}"] = "00:05:00",
        });
        var overridden = configured.Services.GetRequiredService<IOptions<GrainCollectionOptions>>().Value;
        Assert.Equal(TimeSpan.FromMinutes(5), overridden.ClassSpecificCollectionAge[typeof(OrderGrain).FullName!]);
        Assert.Equal(TimeSpan.FromSeconds(30), overridden.ClassSpecificCollectionAge[typeof(PaymentGrain).FullName!]);
    }

    [Fact]
    public void The_grain_address_cache_keeps_100000_entries_by_default_and_configuration_overrides_it()
    {
        // Orleans' own default, 1,000,000 entries of about 270 bytes, would keep an entry for every order and payment of a sale.
        using var host = SiloInspection.BuildUnstartedSilo(new Dictionary<string, string?>());
        Assert.Equal(100_000, host.Services.GetRequiredService<IOptions<GrainDirectoryOptions>>().Value.CacheSize);
        using var configured = SiloInspection.BuildUnstartedSilo(new Dictionary<string, string?> { ["Orleans:DirectoryCacheSize"] = "250000" });
        Assert.Equal(250_000, configured.Services.GetRequiredService<IOptions<GrainDirectoryOptions>>().Value.CacheSize);
    }

    [Fact]
    public async Task A_placed_order_leaves_memory_as_soon_as_its_checkout_has_answered_and_comes_back_unchanged()
    {
        // Default collection settings: an order left idle would stay 30 s.
        await using var silo = await SqliteSiloAsync("placed");
        var (shop, skuId, order) = await CheckedOutAsync(silo, lines: 2); // two lines: placed by the checkout saga through the order grain
        var orderId = order["orderId"]!.GetValue<string>();
        var placed = order.ToJsonString();

        // Well under the 30 s an idle order would stay, with room for the metrics' scrape cache on a loaded machine.
        Assert.Equal(1, await MetricReachingAsync(shop.Admin, "orleans_catalog_activation_destroyed_total", 1, TimeSpan.FromSeconds(15)));
        Assert.Equal(1, await OrderMetricAsync(shop.Admin, "orleans_catalog_activation_created_total"));
        Assert.Equal(placed, (await shop.OrderAsync(orderId)).ToJsonString());
        Assert.Equal(2, await MetricReachingAsync(shop.Admin, "orleans_catalog_activation_created_total", 2, TimeSpan.FromSeconds(10)));
        Assert.Equal(2, await shop.ReservedAsync(skuId));
    }

    [Fact]
    public async Task An_order_read_again_leaves_memory_at_its_own_idle_age_and_comes_back_from_storage_unchanged()
    {
        await using var silo = await SqliteSiloAsync("idle", new Dictionary<string, string>
        {
            ["Orleans__GrainCollection__CollectionQuantum"] = "00:00:01",
            [$"Orleans__GrainCollection__ClassSpecificCollectionAge__{typeof(OrderGrain).FullName}"] = "00:00:03",
        });
        var (shop, skuId, order) = await CheckedOutAsync(silo, lines: 1);
        var orderId = order["orderId"]!.GetValue<string>();
        // Placed by its SKU: no order activation until somebody reads it, and then it reads what the SKU stored.
        await Task.Delay(TimeSpan.FromSeconds(2)); // the metrics' scrape cache
        var createdBeforeRead = await OrderMetricAsync(shop.Admin, "orleans_catalog_activation_created_total");
        Assert.True(createdBeforeRead <= 0, $"{createdBeforeRead} order activations before the order was read"); // -1: no series yet
        var before = (await shop.OrderAsync(orderId)).ToJsonString();
        Assert.Equal(order.ToJsonString(), before);
        Assert.Equal(1, await MetricReachingAsync(shop.Admin, "orleans_catalog_activation_created_total", 1, TimeSpan.FromSeconds(10)));

        // The SKU keeps being read (and stays active); the order, read once, is left alone and is collected after about 3 s.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        long destroyed;
        while ((destroyed = await OrderMetricAsync(shop.Admin, "orleans_catalog_activation_destroyed_total")) < 1 && DateTime.UtcNow < deadline)
        {
            await shop.StockAsync(skuId);
            await Task.Delay(250);
        }
        Assert.True(destroyed >= 1, "the idle order was not deactivated within 30 s");

        Assert.Equal(before, (await shop.OrderAsync(orderId)).ToJsonString());
        Assert.Equal(2, await MetricReachingAsync(shop.Admin, "orleans_catalog_activation_created_total", 2, TimeSpan.FromSeconds(10)));
        Assert.Equal(2, await shop.ReservedAsync(skuId));
    }

    [Fact]
    public async Task A_paid_checkouts_order_payment_and_sandbox_payment_leave_memory_once_settled_and_come_back_unchanged()
    {
        // Default collection settings: each of the three left idle would stay 30 s.
        await using var silo = await SqliteSiloAsync("paid");
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var skuId = await shop.SkuAsync("seller-idle", stock: ("wh-de", 10));
        var buyer = await shop.KeyAsync("buyer", "buyer-paid");
        var (cardStatus, card) = await buyer.PostJsonAsync("/api/v1/payment-methods/cards",
            new { number = "4242 4242 4242 4242", expiryMonth = 12, expiryYear = DateTime.UtcNow.Year + 2 });
        Assert.Equal(HttpStatusCode.Created, cardStatus);
        var (status, created) = await buyer.PostWithKeyAsync("/api/v1/checkout", OrderTestShop.NewId("key"), new
        {
            buyerId = "buyer-paid", currency = "EUR", shipTo = OrderTestShop.Address(), items = new[] { new { skuId, quantity = 2 } },
            payment = new { method = "card", cardToken = card!["token"]!.GetValue<string>() },
        });
        Assert.True(status == HttpStatusCode.Created, $"{status} {created}");
        var order = created!["orders"]![0]!;
        var paymentId = created["payments"]![0]!["paymentId"]!.GetValue<string>();
        Assert.Equal("awaitingShipment", order["status"]!.GetValue<string>());
        Assert.Equal("captured", created["payments"]![0]!["status"]!.GetValue<string>());
        var payment = (await shop.Admin.GetJsonAsync($"/api/v1/payments/{paymentId}")).Body!.ToJsonString();

        // Well under the 30 s of their idle age, with room for the webhook's delivery and the metrics' scrape cache.
        foreach (var grainType in new[] { "order", "payment", "sandboxpsppayment" })
        {
            Assert.True(await MetricReachingAsync(shop.Admin, "orleans_catalog_activation_destroyed_total", 1, TimeSpan.FromSeconds(15), grainType) >= 1,
                $"the {grainType} grain of a settled paid checkout did not leave memory within 15 s");
        }

        Assert.Equal(order.ToJsonString(), (await shop.OrderAsync(order["orderId"]!.GetValue<string>())).ToJsonString());
        Assert.Equal(payment, (await shop.Admin.GetJsonAsync($"/api/v1/payments/{paymentId}")).Body!.ToJsonString());
        Assert.Equal(8, (await shop.StockAsync(skuId))["totalAvailable"]!.GetValue<long>());
    }

    private static Task<SiloProcess> SqliteSiloAsync(string name, IReadOnlyDictionary<string, string>? env = null) => SiloProcess.StartAsync(
        SiloStorage.Sqlite(Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db")),
        $"{name}-{Guid.NewGuid().ToString("N")[..8]}", env);

    /// <summary>
    /// A SKU with 10 units and a checkout of 2 of them, alone (<paramref name="lines"/> 1) or with a line of another SKU of the same
    /// seller (2); answers the order as the checkout did.
    /// </summary>
    private static async Task<(OrderTestShop Shop, string SkuId, System.Text.Json.Nodes.JsonNode Order)> CheckedOutAsync(SiloProcess silo, int lines)
    {
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var skuId = await shop.SkuAsync("seller-idle", stock: ("wh-de", 10));
        object[] items = lines == 1
            ? [new { skuId, quantity = 2 }]
            : [new { skuId, quantity = 2 }, new { skuId = await shop.SkuAsync("seller-idle", stock: ("wh-de", 10)), quantity = 1 }];
        var (status, body) = await OrderTestShop.CheckoutAsync(shop.Admin, "buyer-idle", OrderTestShop.NewId("key"), items);
        Assert.True(status == HttpStatusCode.Created, $"{status} {body}");
        return (shop, skuId, body!["orders"]![0]!);
    }

    /// <summary>/metrics answers from a scrape cache for a moment, so a change may show a little later.</summary>
    private static async Task<long> MetricReachingAsync(HttpClient client, string name, long expected, TimeSpan within, string grainType = "order")
    {
        var deadline = DateTime.UtcNow + within;
        long value;
        while ((value = await SiloInspection.MetricAsync(client, name, $"grain_type=\"{grainType}\"")) < expected && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }
        return value;
    }

    private static Task<long> OrderMetricAsync(HttpClient client, string name) => SiloInspection.MetricAsync(client, name, "grain_type=\"order\"");
}
