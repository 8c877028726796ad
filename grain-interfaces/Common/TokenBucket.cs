namespace Orleans.Trade.Common;

/// <summary>
/// A token bucket's arithmetic: <see cref="Tokens"/> as of the timestamp <see cref="At"/> (of a <see cref="TimeProvider"/>),
/// refilled continuously at a rate per second up to a burst. The caller owns the locking.
/// </summary>
public struct TokenBucket(double tokens, long at)
{
    public double Tokens = tokens;
    public long At = at;

    /// <summary>Adds what refilled since <see cref="At"/>, capped at <paramref name="burst"/>; time only moves forward.</summary>
    public void Refill(long now, double perSecond, double burst, TimeProvider time)
    {
        var refilled = time.GetElapsedTime(At, now).TotalSeconds * perSecond;
        Tokens = Math.Min(burst, Tokens + Math.Max(0, refilled));
        At = Math.Max(At, now);
    }

    /// <summary>Takes up to <paramref name="want"/> whole tokens; how many it took.</summary>
    public int TakeUpTo(int want)
    {
        var taken = (int)Math.Min(want, Math.Floor(Tokens));
        Tokens -= taken;
        return taken;
    }

    /// <summary>How long until the bucket holds a whole token again.</summary>
    public readonly TimeSpan UntilOne(double perSecond) => TimeSpan.FromSeconds(Math.Max(0, 1 - Tokens) / perSecond);
}
