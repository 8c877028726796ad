using System.Reflection;
using Microsoft.Extensions.Time.Testing;
using Orleans.Trade.Common;
using Orleans.Trade.Logistics;

namespace Orleans.Trade.Tests.Logistics;

/// <summary>The silo's copies of sellers' shipping templates that checkouts price by (pure logic, business clock faked).</summary>
public sealed class CachedShippingTemplatesTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 4, 8, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Start);
    private readonly CachedShippingTemplates _cache;
    private readonly IGrainFactory _grains;
    private readonly List<(string Seller, string Template)> _reads = [];

    public CachedShippingTemplatesTests()
    {
        _cache = new CachedShippingTemplates(new TradeClock(_time));
        // Each seller's grain answers any template id with an empty template, and the reads are counted.
        _grains = Answering.As<IGrainFactory>((method, args) =>
        {
            var sellerId = (string)args![0]!;
            return Answering.As<ISellerShippingGrain>((get, ids) =>
            {
                Assert.Equal(nameof(ISellerShippingGrain.Get), get.Name);
                var templateId = (string)ids![0]!;
                _reads.Add((sellerId, templateId));
                return Task.FromResult<ShippingTemplate?>(new ShippingTemplate(sellerId, templateId, "Standard", "USD", [], 1, Start));
            });
        });
    }

    private async Task ReadAsync(string sellerId, string templateId) =>
        Assert.Equal(templateId, (await _cache.GetAsync(sellerId, templateId, _grains))!.TemplateId);

    [Fact]
    public async Task A_sweep_drops_copies_past_the_max_age_and_keeps_fresh_ones()
    {
        await ReadAsync("seller-1", "tpl-a");
        await ReadAsync("seller-2", "tpl-b");
        _time.Advance(CachedShippingTemplates.MaxAge + TimeSpan.FromSeconds(1));
        await ReadAsync("seller-3", "tpl-c"); // a, b stale but no sweep due yet
        Assert.Equal(3, _cache.Count);

        _time.Advance(CachedShippingTemplates.SweepEvery - CachedShippingTemplates.MaxAge);
        await ReadAsync("seller-4", "tpl-d"); // the first read more than 10 s after the last sweep sweeps
        Assert.Equal(2, _cache.Count);

        // c (read MaxAge ago) and d are served from their copies; a is read from its grain again.
        await ReadAsync("seller-3", "tpl-c");
        await ReadAsync("seller-4", "tpl-d");
        await ReadAsync("seller-1", "tpl-a");
        Assert.Equal([("seller-1", "tpl-a"), ("seller-2", "tpl-b"), ("seller-3", "tpl-c"), ("seller-4", "tpl-d"), ("seller-1", "tpl-a")], _reads);
    }

    /// <summary>An interface answered by a function of the method called and its arguments.</summary>
    public class Answering : DispatchProxy
    {
        private Func<MethodInfo, object?[]?, object?> _answer = null!;

        public static T As<T>(Func<MethodInfo, object?[]?, object?> answer) where T : class
        {
            var proxy = Create<T, Answering>();
            ((Answering)(object)proxy)._answer = answer;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => _answer(targetMethod!, args);
    }
}
