namespace Orleans.Trade.Common;

/// <summary>
/// The business clock: deadlines, timelines and audit times read it. It wraps a real <see cref="TimeProvider"/> and can run
/// ahead by an offset so that tests (and only tests: the silo enables it by configuration) can move business time forward
/// without touching the clock Orleans' own runtime uses for membership and timers.
/// </summary>
public sealed class TradeClock(TimeProvider inner) : TimeProvider
{
    private long _offsetTicks;

    public TimeSpan Offset => TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public void Advance(TimeSpan by)
    {
        if (by < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(by), "Business time never goes backwards.");
        }
        Interlocked.Add(ref _offsetTicks, by.Ticks);
    }

    public override DateTimeOffset GetUtcNow() => inner.GetUtcNow() + Offset;

    /// <summary>
    /// The time without the business-time offset: for what another system checks against its own clock (a webhook
    /// signature's timestamp), which must not move when a test or an operator moves business time on.
    /// </summary>
    public DateTimeOffset WallNow => inner.GetUtcNow();

    public override long GetTimestamp() => inner.GetTimestamp();

    public override long TimestampFrequency => inner.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => inner.LocalTimeZone;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        inner.CreateTimer(callback, state, dueTime, period);
}
