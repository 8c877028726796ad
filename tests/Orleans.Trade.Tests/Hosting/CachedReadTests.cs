using Microsoft.Extensions.Time.Testing;
using Orleans.Trade.Common;

namespace Orleans.Trade.Tests.Hosting;

/// <summary>A silo's copy of one value (the carrier registry, the experiments): read once per age, shared, a failed read not kept.</summary>
public sealed class CachedReadTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task Callers_within_the_age_share_one_read_and_the_next_after_it_or_after_an_invalidation_reads_again()
    {
        var cache = new CachedRead<int>(new TradeClock(_time), TimeSpan.FromSeconds(5));
        var reads = 0;
        Task<int> Read() => Task.FromResult(++reads);

        var first = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => cache.GetAsync(Read).AsTask()));
        _time.Advance(TimeSpan.FromSeconds(5));
        var withinAge = await cache.GetAsync(Read);
        _time.Advance(TimeSpan.FromSeconds(1));
        var afterAge = await cache.GetAsync(Read);
        cache.Invalidate();
        var afterInvalidation = await cache.GetAsync(Read);

        Assert.All(first, v => Assert.Equal(1, v));
        Assert.Equal((1, 2, 3), (withinAge, afterAge, afterInvalidation));
    }

    [Fact]
    public async Task A_failed_read_is_not_kept()
    {
        var cache = new CachedRead<int>(new TradeClock(_time), TimeSpan.FromSeconds(5));

        await Assert.ThrowsAsync<InvalidOperationException>(() => cache.GetAsync(() => Task.FromException<int>(new InvalidOperationException())).AsTask());

        Assert.Equal(7, await cache.GetAsync(() => Task.FromResult(7)));
    }
}
