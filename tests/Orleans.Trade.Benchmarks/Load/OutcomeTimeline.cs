using System.Diagnostics;

namespace Orleans.Trade.Benchmarks.Load;

/// <summary>
/// How many requests of a run ended in each 100 ms, by outcome, counted when the answer (or the failure) arrived. Lets a
/// scenario ask what happened between two instants, e.g. from a SIGKILL to the first 201 after it.
/// </summary>
public sealed class OutcomeTimeline
{
    public const int BucketMs = 100;
    // Requests may end up to the client's time-out after --max-duration.
    private static readonly TimeSpan Slack = TimeSpan.FromMinutes(2);
    private readonly long[] _counts;

    public OutcomeTimeline(long startTimestamp, TimeSpan maxDuration)
    {
        StartTimestamp = startTimestamp;
        Buckets = (int)((maxDuration + Slack).TotalMilliseconds / BucketMs) + 1;
        _counts = new long[Buckets * 3];
    }

    /// <summary>The run's start, as a <see cref="Stopwatch"/> timestamp.</summary>
    public long StartTimestamp { get; }

    public int Buckets { get; }

    /// <summary>Time from the run's start to a <see cref="Stopwatch"/> timestamp.</summary>
    public TimeSpan Offset(long timestamp) => Stopwatch.GetElapsedTime(StartTimestamp, timestamp);

    internal void Record(long timestamp, Outcome outcome)
    {
        var bucket = Math.Clamp((int)(Offset(timestamp).TotalMilliseconds / BucketMs), 0, Buckets - 1);
        Interlocked.Increment(ref _counts[bucket * 3 + (int)outcome]);
    }

    /// <summary>Requests with <paramref name="outcome"/> that ended from <paramref name="from"/> to before <paramref name="to"/> (to the 100 ms).</summary>
    public long Count(Outcome outcome, TimeSpan from, TimeSpan to)
    {
        var first = Math.Clamp((int)(from.TotalMilliseconds / BucketMs), 0, Buckets);
        var end = Math.Clamp((int)Math.Ceiling(to.TotalMilliseconds / BucketMs), 0, Buckets);
        long sum = 0;
        for (var b = first; b < end; b++)
        {
            sum += Interlocked.Read(ref _counts[b * 3 + (int)outcome]);
        }
        return sum;
    }

    /// <summary>All outcomes from <paramref name="from"/> to before <paramref name="to"/>.</summary>
    public long Count(TimeSpan from, TimeSpan to) => Count(Outcome.Ok, from, to) + Count(Outcome.Refused, from, to) + Count(Outcome.Error, from, to);
}
