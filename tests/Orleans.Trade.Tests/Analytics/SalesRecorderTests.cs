using Microsoft.Extensions.Time.Testing;
using Orleans.Trade.Analytics;
using Orleans.Trade.Api.Analytics;
using Orleans.Trade.Common;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Tests.Analytics;

/// <summary>R-DAT-1: a silo's minute buckets of placed orders.</summary>
public sealed class SalesRecorderTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 10, 0, 30, TimeSpan.Zero));
    private readonly SalesRecorder _recorder;

    public SalesRecorderTests() => _recorder = new SalesRecorder(new TradeClock(_time));

    private long Minute => SalesMonitor.MinuteOf(_time.GetUtcNow());

    private OrderView Order(long amountMinor, string currency, DateTimeOffset? createdAt = null) =>
        new($"o-{Guid.NewGuid():N}", "b", "s", OrderStatus.AwaitingPayment, [],
            new OrderTotals(new Money(amountMinor, currency), new Money(amountMinor, currency), 1m, _time.GetUtcNow()),
            null!, null, null!, false, false, null, OrderSource.Checkout, null, "c", createdAt ?? _time.GetUtcNow(), _time.GetUtcNow(), 1);

    [Fact]
    public void Orders_are_summed_per_minute_and_currency_and_a_minute_is_handed_out_one_take_after_it_closed()
    {
        var startedAt = _time.GetUtcNow();
        var first = Minute;
        _recorder.Placed([Order(1000, "USD"), Order(5000, "CNY")], startedAt);
        _recorder.Placed([Order(2500, "USD")], startedAt);
        Assert.Empty(_recorder.TakeClosed(Minute, out _));

        _time.Advance(TimeSpan.FromMinutes(1));
        _recorder.Placed([Order(700, "EUR")], _time.GetUtcNow());
        // The minute closed by this take settles until the next one: a checkout may still be adding to it.
        Assert.Empty(_recorder.TakeClosed(Minute, out var settling));
        Assert.Equal(1, settling);
        var taken = Assert.Single(_recorder.TakeClosed(Minute, out _));

        Assert.Equal(first, taken.Minute);
        Assert.Equal(new Dictionary<string, long> { ["CNY"] = 1, ["USD"] = 2 }, taken.OrdersByCurrency);
        Assert.Equal(new Dictionary<string, long> { ["CNY"] = 5000, ["USD"] = 3500 }, taken.GmvMinorByCurrency);

        _time.Advance(TimeSpan.FromMinutes(3));
        _recorder.TakeClosed(Minute, out _);
        var next = Assert.Single(_recorder.TakeClosed(Minute, out _));
        Assert.Equal((first + 1, 1L, 700L), (next.Minute, next.OrdersByCurrency["EUR"], next.GmvMinorByCurrency["EUR"]));
    }

    [Fact]
    public void A_stored_answer_to_a_retried_checkout_is_not_counted_again()
    {
        var placedAt = _time.GetUtcNow();
        var order = Order(1000, "USD", placedAt);
        _recorder.Placed([order], placedAt);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        _recorder.Placed([order], _time.GetUtcNow());
        _time.Advance(TimeSpan.FromSeconds(5));
        _recorder.Placed([order], _time.GetUtcNow());

        _time.Advance(TimeSpan.FromMinutes(1));
        _recorder.TakeClosed(Minute, out _);
        var taken = Assert.Single(_recorder.TakeClosed(Minute, out _));
        Assert.Equal(1, taken.OrdersByCurrency["USD"]);
        Assert.Equal(1000, taken.GmvMinorByCurrency["USD"]);
    }

    [Fact]
    public void At_shutdown_the_open_minute_is_handed_out_with_the_closed_ones_and_never_again()
    {
        var first = Minute;
        _recorder.Placed([Order(1000, "USD")], _time.GetUtcNow());
        _time.Advance(TimeSpan.FromMinutes(1));
        _recorder.Placed([Order(700, "EUR"), Order(300, "EUR")], _time.GetUtcNow());
        Assert.Empty(_recorder.TakeClosed(Minute, out var settling)); // the first minute closed, still settling
        Assert.Equal(1, settling);

        // Kestrel has drained: the settling minute and the open one both go, though the open one has 30 s to run.
        var taken = _recorder.TakeAll();
        Assert.Equal([(first, "USD", 1L, 1000L), (first + 1, "EUR", 2L, 1000L)],
            taken.Select(m => (m.Minute, Assert.Single(m.OrdersByCurrency).Key, m.OrdersByCurrency.Single().Value, m.GmvMinorByCurrency.Single().Value)));

        Assert.Empty(_recorder.TakeAll());
        _time.Advance(TimeSpan.FromMinutes(1));
        _recorder.TakeClosed(Minute, out _);
        Assert.Empty(_recorder.TakeClosed(Minute, out _));
    }

    [Fact]
    public void A_minute_without_orders_is_not_handed_out()
    {
        _time.Advance(TimeSpan.FromMinutes(5));
        _recorder.TakeClosed(Minute, out _);
        Assert.Empty(_recorder.TakeClosed(Minute, out var settling));
        Assert.Equal(0, settling);
    }
}
