using System.Collections.Concurrent;
using Orleans.Trade.Common;

namespace Orleans.Trade.Api.Common;

/// <summary>
/// Token buckets by id (an API key, a client address), refilled continuously at a rate and holding up to a burst. Each bucket
/// has its own lock, so ids never wait on each other; buckets untouched for a minute are dropped once a minute, and the whole
/// set is dropped if it ever holds <see cref="MaxBuckets"/> (ids an attacker makes up must not grow memory without end).
/// </summary>
public sealed class TokenBuckets(TimeProvider time)
{
    public const int MaxBuckets = 100_000;
    private static readonly TimeSpan SweepEvery = TimeSpan.FromMinutes(1);

    private sealed class Bucket(double tokens, long at)
    {
        public TokenBucket State = new(tokens, at);
        /// <summary>Swept out of the dictionary: a request that still holds it takes a fresh one instead.</summary>
        public bool Dead;
    }

    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
    private long _nextSweep;

    public int Count => _buckets.Count;

    /// <summary>
    /// True for exactly one caller once <paramref name="next"/> (a timestamp) has come, which moves it <paramref name="period"/>
    /// on: for once-a-period work (a sweep, a warning) started from a request, without a lock.
    /// </summary>
    internal static bool ClaimIfDue(ref long next, long now, long period)
    {
        var due = Interlocked.Read(ref next);
        return now >= due && Interlocked.CompareExchange(ref next, now + period, due) == due;
    }

    /// <summary>Puts back a token taken from <paramref name="id"/>'s bucket (never above <paramref name="burst"/>).</summary>
    public void GiveBack(string id, double burst)
    {
        if (_buckets.TryGetValue(id, out var bucket))
        {
            lock (bucket)
            {
                bucket.State.Tokens = Math.Min(burst, bucket.State.Tokens + 1);
            }
        }
    }

    /// <summary>Takes one token from <paramref name="id"/>'s bucket; when there is none, how long until there is.</summary>
    public bool TryTake(string id, double perSecond, double burst, out TimeSpan retryAfter)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perSecond);
        SweepIfDue(time.GetTimestamp());
        while (true)
        {
            if (!_buckets.TryGetValue(id, out var bucket))
            {
                // Counted only when a bucket is added (the count takes every lock of the dictionary).
                if (_buckets.Count >= MaxBuckets)
                {
                    _buckets.Clear();
                }
                bucket = _buckets.GetOrAdd(id, static (_, start) => new Bucket(start.Burst, start.Time.GetTimestamp()), (Burst: burst, Time: time));
            }
            lock (bucket)
            {
                if (bucket.Dead)
                {
                    continue;
                }
                // Read under the lock, so the bucket's time only moves forward and no interval is credited twice.
                bucket.State.Refill(time.GetTimestamp(), perSecond, burst, time);
                if (bucket.State.Tokens >= 1)
                {
                    bucket.State.Tokens -= 1;
                    retryAfter = TimeSpan.Zero;
                    return true;
                }
                retryAfter = bucket.State.UntilOne(perSecond);
                return false;
            }
        }
    }

    /// <summary>
    /// Once a minute, drops the buckets untouched for a minute, so a flash sale's many buyer keys do not stay in memory. Such a
    /// bucket has refilled by a minute's worth of tokens, its whole burst unless that is more than 60 times its rate: then an id
    /// that paused for a minute starts over with a full burst, as a new one would.
    /// </summary>
    private void SweepIfDue(long now)
    {
        if (!ClaimIfDue(ref _nextSweep, now, (long)(SweepEvery.TotalSeconds * time.TimestampFrequency)))
        {
            return;
        }
        foreach (var entry in _buckets)
        {
            var bucket = entry.Value;
            lock (bucket)
            {
                if (time.GetElapsedTime(bucket.State.At, now) > SweepEvery)
                {
                    bucket.Dead = true;
                    _buckets.TryRemove(entry);
                }
            }
        }
    }
}
