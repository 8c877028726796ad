using Orleans.Trade.Common;

namespace Orleans.Trade.Tests.Orders;

/// <summary>The sweeper's test of whether a woken grain moved on: against its index row, stored at less than the clock's precision.</summary>
public sealed class DeadlineSweepTests
{
    private static readonly DateTimeOffset Due = new DateTimeOffset(2026, 12, 7, 10, 0, 0, TimeSpan.Zero).AddTicks(1_234_567);

    [Fact]
    public void A_grain_answering_the_time_it_was_woken_for_is_still_at_it_though_the_index_kept_that_time_to_the_micro_or_millisecond()
    {
        var inPostgres = new DateTimeOffset(Due.UtcTicks / 10 * 10, TimeSpan.Zero);
        var inSqlite = new DateTimeOffset(Due.UtcTicks / TimeSpan.TicksPerMillisecond * TimeSpan.TicksPerMillisecond, TimeSpan.Zero);

        Assert.True(DeadlineSweep.SameWake(Due, inPostgres));
        Assert.True(DeadlineSweep.SameWake(Due, inSqlite));
        Assert.True(DeadlineSweep.SameWake(Due.ToOffset(TimeSpan.FromHours(8)), inSqlite));
    }

    [Fact]
    public void A_grain_answering_another_time_or_none_has_moved_on()
    {
        Assert.False(DeadlineSweep.SameWake(Due.AddMilliseconds(1), Due));
        Assert.False(DeadlineSweep.SameWake(Due.AddMilliseconds(-1), Due));
        Assert.False(DeadlineSweep.SameWake(Due.AddMinutes(5), Due));
        Assert.False(DeadlineSweep.SameWake(null, Due));
    }
}
