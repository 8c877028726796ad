using Microsoft.Extensions.Time.Testing;
using Orleans.Trade.Common;
using Orleans.Trade.Inventory;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Tests.Inventory;

/// <summary>The silo's copy of the warehouse registry that orders rank with (pure logic; the registry read is a counted stub).</summary>
public sealed class CachedWarehousesTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 2, 8, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Start);
    private readonly List<Warehouse> _registry = [new("wh-cn-1", "Shenzhen", "CN", Start), new("wh-fr-1", "Lyon", "FR", Start)];
    private int _reads;

    private Task<IReadOnlyList<Warehouse>> ReadRegistry()
    {
        _reads++;
        return Task.FromResult<IReadOnlyList<Warehouse>>(_registry.ToArray());
    }

    [Fact]
    public async Task Orders_within_the_max_age_share_one_registry_read_and_rank_per_country()
    {
        var cache = new CachedWarehouses(new TradeClock(_time), RegionMap.Default);
        Assert.Equal(["wh-fr-1", "wh-cn-1"], await cache.RankedForAsync("DE", ReadRegistry));
        Assert.Equal(["wh-cn-1", "wh-fr-1"], await cache.RankedForAsync("TH", ReadRegistry));
        _time.Advance(CachedWarehouses.MaxAge);
        Assert.Equal(["wh-fr-1", "wh-cn-1"], await cache.RankedForAsync("DE", ReadRegistry));
        Assert.Equal(1, _reads);
    }

    [Fact]
    public async Task A_stale_copy_is_read_again_and_a_registration_drops_it_at_once()
    {
        var cache = new CachedWarehouses(new TradeClock(_time), RegionMap.Default);
        await cache.RankedForAsync("DE", ReadRegistry);
        _registry.Add(new Warehouse("wh-de-1", "Berlin", "DE", Start));
        Assert.Equal(["wh-fr-1", "wh-cn-1"], await cache.RankedForAsync("DE", ReadRegistry));

        _time.Advance(CachedWarehouses.MaxAge + TimeSpan.FromMilliseconds(1));
        Assert.Equal(["wh-de-1", "wh-fr-1", "wh-cn-1"], await cache.RankedForAsync("DE", ReadRegistry));
        Assert.Equal(2, _reads);

        _registry.Add(new Warehouse("wh-pl-1", "Poznan", "PL", Start));
        cache.Invalidate();
        Assert.Equal(4, (await cache.RankedForAsync("DE", ReadRegistry)).Count);
        Assert.Equal(3, _reads);
    }

    [Fact]
    public async Task Callers_that_find_the_copy_missing_together_share_one_read_and_a_failed_read_is_retried()
    {
        var cache = new CachedWarehouses(new TradeClock(_time), RegionMap.Default);
        var gate = new TaskCompletionSource<IReadOnlyList<Warehouse>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var slowReads = 0;
        Task<IReadOnlyList<Warehouse>> Slow()
        {
            slowReads++;
            return gate.Task;
        }
        var waiting = Enumerable.Range(0, 10).Select(_ => cache.RankedForAsync("FR", Slow).AsTask()).ToArray();
        gate.SetResult(_registry.ToArray());
        Assert.All(await Task.WhenAll(waiting), ranked => Assert.Equal("wh-fr-1", ranked[0]));
        Assert.Equal(1, slowReads);

        cache.Invalidate();
        await Assert.ThrowsAsync<TimeoutException>(async () => await cache.RankedForAsync("FR", () => throw new TimeoutException("registry down")));
        Assert.Equal("wh-fr-1", (await cache.RankedForAsync("FR", ReadRegistry))[0]);
        Assert.Equal(1, _reads);
    }
}
