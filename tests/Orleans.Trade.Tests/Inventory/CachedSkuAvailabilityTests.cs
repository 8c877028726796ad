using Microsoft.Extensions.Time.Testing;
using Orleans.Trade.Common;
using Orleans.Trade.Inventory;

namespace Orleans.Trade.Tests.Inventory;

/// <summary>The silo's recent copy of each SKU's availability that checkouts may go ahead on (pure logic, business clock faked).</summary>
public sealed class CachedSkuAvailabilityTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 4, 8, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Start);
    private readonly CachedSkuAvailability _cache;

    public CachedSkuAvailabilityTests() => _cache = new CachedSkuAvailability(new TradeClock(_time));

    private static SkuAvailability View(long available, string seller = "seller-1") =>
        new(new SkuCatalog(seller, "Phone case", "accessories", new Money(999, "USD"), 80, "392690", "CN", null), available);

    [Fact]
    public void A_fresh_copy_serves_only_checkouts_it_has_enough_units_for()
    {
        Assert.False(_cache.TryGetPlenty("sku-1", 1, out _));
        _cache.Seen("sku-1", View(3));

        Assert.True(_cache.TryGetPlenty("sku-1", 3, out var view));
        Assert.Equal(3, view.Available);
        Assert.Equal("seller-1", view.Catalog.SellerId);
        Assert.False(_cache.TryGetPlenty("sku-1", 4, out _));
        Assert.False(_cache.TryGetPlenty("sku-2", 1, out _));

        _cache.Seen("sku-1", View(0));
        Assert.False(_cache.TryGetPlenty("sku-1", 1, out _));
    }

    [Fact]
    public void A_copy_older_than_the_max_age_is_not_used_and_a_sweep_drops_it()
    {
        _cache.Seen("sku-1", View(10));
        _time.Advance(CachedSkuAvailability.MaxAge);
        Assert.True(_cache.TryGetPlenty("sku-1", 1, out _));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(_cache.TryGetPlenty("sku-1", 1, out _));

        _time.Advance(TimeSpan.FromSeconds(10));
        _cache.Seen("sku-2", View(10)); // the first answer seen 10 s after the last sweep sweeps
        Assert.Equal(1, _cache.Count);
        Assert.True(_cache.TryGetPlenty("sku-2", 10, out _));
    }

    [Fact]
    public void A_SKU_that_no_longer_exists_drops_its_copy_and_a_new_answer_replaces_the_old()
    {
        _cache.Seen("sku-1", View(10, seller: "seller-1"));
        _cache.Seen("sku-1", View(7, seller: "seller-2"));
        Assert.True(_cache.TryGetPlenty("sku-1", 7, out var view));
        Assert.Equal("seller-2", view.Catalog.SellerId);

        _cache.Seen("sku-1", null);
        Assert.False(_cache.TryGetPlenty("sku-1", 1, out _));
    }
}
