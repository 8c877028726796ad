using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Orleans.Trade.Common;

namespace Orleans.Trade.Api.Common;

/// <summary>
/// Request budgets counted across the cluster: each budget is one bucket (<see cref="IRequestQuotaGrain"/>, reached through
/// <see cref="Source"/>), and this silo leases a few of its tokens at a time (<see cref="LeaseSize"/>) and spends them locally,
/// so most requests cost a lock and a decrement, and one in a lease's size one grain call. Concurrent requests of one id share
/// one lease call. A refused lease is remembered until the bucket has a token again, so a client hammering past its limit
/// costs no grain calls. Tokens leased and not spent within a minute are dropped (the cluster then admits slightly less, never
/// more). When the bucket cannot be reached within <see cref="LeaseTimeout"/>, the id is counted by this silo alone for
/// <see cref="FallbackFor"/> (the limit holds per silo, as it did before the cluster-wide one) rather than refusing or waiting.
/// </summary>
public sealed class QuotaLeases(QuotaLeases.Source source, TimeProvider time, ILogger logger)
{
    /// <summary>Leases up to <c>want</c> tokens of the bucket <c>id</c> at the given rate and burst.</summary>
    public delegate Task<QuotaLease> Source(string id, int want, double perSecond, double burst);

    public readonly record struct Verdict(bool Admitted, TimeSpan RetryAfter)
    {
        public static readonly Verdict Admit = new(true, TimeSpan.Zero);
    }

    public static readonly TimeSpan LeaseTimeout = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan FallbackFor = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan SweepEvery = TimeSpan.FromMinutes(1);

    private sealed class Entry(long now)
    {
        public int Tokens;
        public long RefusedUntil = now;
        public long FallbackUntil = now;
        public long UsedAt = now;
        public Task? Pending;
        /// <summary>Swept out of the dictionary: a request that still holds it takes a fresh one instead.</summary>
        public bool Dead;
    }

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly TokenBuckets _fallback = new(time);
    private long _nextSweep;
    private long _failures;
    private long _nextWarning;

    /// <summary>Lease calls that failed or timed out, after which their ids were counted per silo for a while (a metric).</summary>
    public long LeaseFailures => Interlocked.Read(ref _failures);

    public int Count => _entries.Count;

    /// <summary>
    /// How many tokens one lease asks for: a quarter of a second's rate (at least 1, at most a quarter of the burst), so a silo
    /// at most strands a few tokens and a principal at its full rate costs about four lease calls a second.
    /// </summary>
    public static int LeaseSize(double perSecond, double burst) =>
        (int)Math.Clamp(Math.Floor(Math.Min(perSecond, burst) / 4), 1, 10_000);

    /// <summary>Takes one token of <paramref name="id"/>'s budget; when there is none, how long until there is.</summary>
    public ValueTask<Verdict> TryTakeAsync(string id, double perSecond, double burst)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perSecond);
        var now = time.GetTimestamp();
        SweepIfDue(now);
        while (true)
        {
            if (!_entries.TryGetValue(id, out var entry))
            {
                if (_entries.Count >= TokenBuckets.MaxBuckets)
                {
                    _entries.Clear();
                }
                entry = _entries.GetOrAdd(id, static (_, at) => new Entry(at), now);
            }
            Task pending;
            lock (entry)
            {
                if (entry.Dead)
                {
                    continue;
                }
                entry.UsedAt = Math.Max(entry.UsedAt, now);
                if (entry.Tokens > 0)
                {
                    entry.Tokens--;
                    return ValueTask.FromResult(Verdict.Admit);
                }
                if (now < entry.FallbackUntil)
                {
                    return ValueTask.FromResult(_fallback.TryTake(id, perSecond, burst, out var wait) ? Verdict.Admit : new Verdict(false, wait));
                }
                if (now < entry.RefusedUntil)
                {
                    return ValueTask.FromResult(new Verdict(false, time.GetElapsedTime(now, entry.RefusedUntil)));
                }
                // A lease that completed at once (a failing source) must not stand for the next one.
                if (entry.Pending is not { IsCompleted: false })
                {
                    entry.Pending = LeaseAsync(entry, id, perSecond, burst);
                }
                pending = entry.Pending;
            }
            return AfterLease(pending, id, perSecond, burst);
        }
    }

    private async ValueTask<Verdict> AfterLease(Task pending, string id, double perSecond, double burst)
    {
        await pending;
        return await TryTakeAsync(id, perSecond, burst);
    }

    /// <summary>Never throws: a failed lease puts the id on this silo's own count for <see cref="FallbackFor"/>.</summary>
    private async Task LeaseAsync(Entry entry, string id, double perSecond, double burst)
    {
        QuotaLease lease;
        try
        {
            lease = await source(id, LeaseSize(perSecond, burst), perSecond, burst).WaitAsync(LeaseTimeout, time);
        }
        catch (Exception ex)
        {
            Interlocked.Increment(ref _failures);
            var now = time.GetTimestamp();
            lock (entry)
            {
                entry.FallbackUntil = now + Ticks(FallbackFor);
            }
            var due = Interlocked.Read(ref _nextWarning);
            if (now >= due && Interlocked.CompareExchange(ref _nextWarning, now + Ticks(FallbackFor), due) == due)
            {
                logger.LogWarning(ex, "A cluster-wide request budget could not be leased; its requests are counted by this silo alone for {Seconds} s.",
                    FallbackFor.TotalSeconds);
            }
            return;
        }
        lock (entry)
        {
            entry.Tokens += lease.Granted;
            if (lease.Granted == 0)
            {
                entry.RefusedUntil = time.GetTimestamp() + Ticks(lease.RetryAfter);
            }
        }
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * time.TimestampFrequency);

    /// <summary>Once a minute, drops ids unused for a minute, with whatever tokens they still held.</summary>
    private void SweepIfDue(long now)
    {
        var due = Interlocked.Read(ref _nextSweep);
        if (now < due || Interlocked.CompareExchange(ref _nextSweep, now + Ticks(SweepEvery), due) != due)
        {
            return;
        }
        foreach (var pair in _entries)
        {
            var entry = pair.Value;
            lock (entry)
            {
                if (entry.Pending is not { IsCompleted: false } && time.GetElapsedTime(entry.UsedAt, now) > SweepEvery)
                {
                    entry.Dead = true;
                    _entries.TryRemove(pair);
                }
            }
        }
    }
}
