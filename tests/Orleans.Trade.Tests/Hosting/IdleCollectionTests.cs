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
/// so a long flash sale does not hold every order it took; other grains keep the general collection age.
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
    public async Task An_idle_order_leaves_memory_at_its_own_age_and_comes_back_from_storage_unchanged()
    {
        var path = Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db");
        await using var silo = await SiloProcess.StartAsync(SiloStorage.Sqlite(path), "idle-" + Guid.NewGuid().ToString("N")[..8], new Dictionary<string, string>
        {
            ["Orleans__GrainCollection__CollectionQuantum"] = "00:00:01",
            [$"Orleans__GrainCollection__ClassSpecificCollectionAge__{typeof(OrderGrain).FullName}"] = "00:00:03",
        });
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var skuId = await shop.SkuAsync("seller-idle", stock: ("wh-de", 10));
        var (status, body) = await OrderTestShop.CheckoutAsync(shop.Admin, "buyer-idle", OrderTestShop.NewId("key"), [new { skuId, quantity = 2 }]);
        Assert.True(status == HttpStatusCode.Created, $"{status} {body}");
        var orderId = body!["orders"]![0]!["orderId"]!.GetValue<string>();
        var before = (await shop.OrderAsync(orderId)).ToJsonString();
        Assert.Equal(1, await OrderMetricAsync(shop.Admin, "orleans_catalog_activation_created_total"));

        // The SKU keeps being read (and stays active); the order is left alone and is collected after about 3 s.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        long destroyed;
        while ((destroyed = await OrderMetricAsync(shop.Admin, "orleans_catalog_activation_destroyed_total")) < 1 && DateTime.UtcNow < deadline)
        {
            await shop.StockAsync(skuId);
            await Task.Delay(250);
        }
        Assert.True(destroyed >= 1, "the idle order was not deactivated within 30 s");

        Assert.Equal(before, (await shop.OrderAsync(orderId)).ToJsonString());
        // /metrics answers from a scrape cache for a moment, so the new activation may show a little later.
        var created = 0L;
        for (var tries = 0; tries < 40 && (created = await OrderMetricAsync(shop.Admin, "orleans_catalog_activation_created_total")) < 2; tries++)
        {
            await Task.Delay(250);
        }
        Assert.Equal(2, created);
        Assert.Equal(2, await shop.ReservedAsync(skuId));
    }

    private static Task<long> OrderMetricAsync(HttpClient client, string name) => SiloInspection.MetricAsync(client, name, "grain_type=\"order\"");
}
