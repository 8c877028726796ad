using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Orleans.Trade.Common;

namespace Orleans.Trade.Api.Common;

/// <summary>
/// Request budgets counted across the cluster: each budget is one bucket (<see cref="IRequestQuotaGrain"/>, reached through
/// <see cref="Source"/>), and this silo leases a few of its tokens at a time and spends them locally until the lease lapses
/// (<see cref="QuotaLease.Lifetime"/>, counted from when it was asked for), so most requests of a busy principal cost a lock
/// and a decrement. A lease starts at one token and doubles each time this silo spent the one before whole, up to
/// <see cref="LeaseSize"/> (halved when a lease lapses with tokens left), so a silo a principal only visits strands little;
/// requests waiting for a lease are leased for together. Concurrent requests of one id share one lease call; a request waits
/// for further lease calls until it gets a token or a lease comes back empty (at most <see cref="MostLeasesPerRequest"/>). A
/// refused lease is remembered until the bucket has a token again, so a client hammering past its limit costs no grain calls.
/// When the bucket does not answer within <see cref="LeaseTimeout"/> (or half a lease's lifetime, if that is less: a later
/// answer would have lapsed), the id is counted by this silo alone for <see cref="FallbackFor"/> (the limit then holds per
/// silo, as it did before it was counted across the cluster) rather than refusing or waiting.
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
    /// <summary>
    /// However many leases other requests of the id take from under it, a request waits for no more than this many (a burst
    /// of 40 arriving at once, leased a quarter of what is left at a time, takes 16).
    /// </summary>
    public const int MostLeasesPerRequest = 32;
    private static readonly TimeSpan SweepEvery = TimeSpan.FromMinutes(1);

    private sealed class Entry(long now)
    {
        public int Tokens;
        public long ExpiresAt = now;
        public int Want = 1;
        /// <summary>The last lease's size as granted and as asked: granted whole and spent before it lapsed, the next doubles.</summary>
        public int LastGranted;
        public int LastWanted;
        /// <summary>Requests waiting for a lease.</summary>
        public int Waiting;
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
    /// The largest lease asked for: a quarter of a second's rate (at least 1, at most a quarter of the burst), so a principal at
    /// its full rate on one silo costs about four lease calls a second.
    /// </summary>
    public static int LeaseSize(double perSecond, double burst) =>
        (int)Math.Clamp(Math.Floor(Math.Min(perSecond, burst) / 4), 1, 10_000);

    /// <summary>Takes one token of <paramref name="id"/>'s budget; when there is none, how long until there is.</summary>
    public ValueTask<Verdict> TryTakeAsync(string id, double perSecond, double burst)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perSecond);
        SweepIfDue(time.GetTimestamp());
        return TakeAsync(id, perSecond, burst, leases: 0, countedOn: null);
    }

    private ValueTask<Verdict> TakeAsync(string id, double perSecond, double burst, int leases, Entry? countedOn)
    {
        while (true)
        {
            if (!_entries.TryGetValue(id, out var entry))
            {
                if (_entries.Count >= TokenBuckets.MaxBuckets)
                {
                    _entries.Clear();
                }
                entry = _entries.GetOrAdd(id, static (_, at) => new Entry(at), time.GetTimestamp());
            }
            TaskCompletionSource? lease = null;
            int want;
            Task pending;
            lock (entry)
            {
                if (entry.Dead)
                {
                    continue;
                }
                // Read under the lock: a token is never spent after its lease lapsed.
                var now = time.GetTimestamp();
                entry.UsedAt = Math.Max(entry.UsedAt, now);
                if (entry.Tokens > 0 && now >= entry.ExpiresAt)
                {
                    // The lease lapsed with tokens left: they count against the burst no more, and the next lease is smaller.
                    entry.Tokens = 0;
                    entry.LastGranted = 0;
                    entry.Want = Math.Max(1, entry.Want / 2);
                }
                Verdict? verdict = null;
                if (entry.Tokens > 0)
                {
                    entry.Tokens--;
                    verdict = Verdict.Admit;
                }
                else if (now < entry.FallbackUntil)
                {
                    verdict = _fallback.TryTake(id, perSecond, burst, out var wait) ? Verdict.Admit : new Verdict(false, wait);
                }
                else if (now < entry.RefusedUntil)
                {
                    verdict = new Verdict(false, time.GetElapsedTime(now, entry.RefusedUntil));
                }
                else if (leases >= MostLeasesPerRequest)
                {
                    // Other requests of this id spent every lease this one waited for.
                    verdict = new Verdict(false, TimeSpan.FromSeconds(1 / perSecond));
                }
                if (verdict is { } decided)
                {
                    if (countedOn == entry)
                    {
                        entry.Waiting--;
                    }
                    return ValueTask.FromResult(decided);
                }
                if (countedOn != entry)
                {
                    // Counted once (again, on a fresh entry if the one it waited on was swept or cleared meanwhile).
                    entry.Waiting++;
                    countedOn = entry;
                }
                want = 0;
                if (entry.Pending is not { IsCompleted: false })
                {
                    if (entry.LastGranted > 0 && entry.LastGranted == entry.LastWanted && now < entry.ExpiresAt)
                    {
                        // The last lease was granted whole and spent while it was still good: this silo is busy with the id.
                        entry.Want = Math.Min(entry.Want * 2, LeaseSize(perSecond, burst));
                    }
                    want = Math.Clamp(Math.Max(entry.Want, entry.Waiting), 1, LeaseSize(perSecond, burst));
                    lease = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    entry.Pending = lease.Task;
                }
                pending = entry.Pending;
            }
            if (lease is not null)
            {
                _ = LeaseAsync(entry, lease, id, want, perSecond, burst);
            }
            return AfterLease(pending, id, perSecond, burst, leases + 1, countedOn);
        }
    }

    private async ValueTask<Verdict> AfterLease(Task pending, string id, double perSecond, double burst, int leases, Entry countedOn)
    {
        await pending;
        return await TakeAsync(id, perSecond, burst, leases, countedOn);
    }

    /// <summary>Completes <paramref name="done"/> however the call ends: a failed lease puts the id on this silo's own count.</summary>
    private async Task LeaseAsync(Entry entry, TaskCompletionSource done, string id, int want, double perSecond, double burst)
    {
        var asked = time.GetTimestamp();
        try
        {
            // An answer later than half the lease's lifetime would leave little of it to spend: counted as no answer.
            var patience = TimeSpan.FromTicks(Math.Min(LeaseTimeout.Ticks, QuotaLeaseTerms.LeaseLifetime(perSecond, burst).Ticks / 2));
            var lease = await source(id, want, perSecond, burst).WaitAsync(patience, time);
            lock (entry)
            {
                entry.Tokens = lease.Granted;
                entry.ExpiresAt = asked + Ticks(lease.Lifetime);
                entry.LastGranted = lease.Granted;
                entry.LastWanted = want;
                if (lease.Granted == 0)
                {
                    entry.RefusedUntil = time.GetTimestamp() + Ticks(lease.RetryAfter);
                }
            }
        }
        catch (Exception ex)
        {
            Interlocked.Increment(ref _failures);
            var now = time.GetTimestamp();
            lock (entry)
            {
                entry.FallbackUntil = now + Ticks(FallbackFor);
            }
            if (TokenBuckets.ClaimIfDue(ref _nextWarning, now, Ticks(FallbackFor)))
            {
                logger.LogWarning(ex, "A cluster-wide request budget could not be leased; its requests are counted by this silo alone for {Seconds} s.",
                    FallbackFor.TotalSeconds);
            }
        }
        finally
        {
            done.SetResult();
        }
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * time.TimestampFrequency);

    /// <summary>Once a minute, drops ids unused for a minute (their leases lapsed long ago).</summary>
    private void SweepIfDue(long now)
    {
        if (!TokenBuckets.ClaimIfDue(ref _nextSweep, now, Ticks(SweepEvery)))
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
