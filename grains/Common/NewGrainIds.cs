using System.Collections.Concurrent;
using System.Diagnostics;

namespace Orleans.Trade.Common;

/// <summary>
/// Grains this silo has just minted an id for (a new order's ULID) and that therefore have no stored state yet: their first
/// activation here may skip the storage read. A mark is taken by the first read of that grain, so any later activation reads
/// as usual; one that is never taken expires. Only an activation writes its own state and only after its read, so no row can
/// exist while the mark stands; should one anyway (another silo's activation in a split second), the new-row write fails its
/// version check instead of overwriting it.
/// </summary>
public sealed class NewGrainIds
{
    /// <summary>Beyond this many marks (ids minted here for grains placed on other silos, never taken) no more are kept.</summary>
    private const int MaxMarks = 100_000;
    private static readonly long MaxAge = Stopwatch.Frequency * 60;
    private static readonly long SweepEvery = Stopwatch.Frequency * 10;
    private readonly ConcurrentDictionary<GrainId, long> _marks = new();
    /// <summary>Kept beside the dictionary: its Count takes every bucket lock, too dear on every checkout.</summary>
    private int _count;
    private long _lastSweep = Stopwatch.GetTimestamp();

    /// <summary>Marks a grain whose id was minted just now and that nothing has activated yet.</summary>
    public void Minted(GrainId grain)
    {
        var now = Stopwatch.GetTimestamp();
        var last = Interlocked.Read(ref _lastSweep);
        if (now - last > SweepEvery && Interlocked.CompareExchange(ref _lastSweep, now, last) == last)
        {
            foreach (var (id, at) in _marks)
            {
                if (now - at > MaxAge && _marks.TryRemove(id, out _))
                {
                    Interlocked.Decrement(ref _count);
                }
            }
        }
        if (Volatile.Read(ref _count) < MaxMarks && _marks.TryAdd(grain, now))
        {
            Interlocked.Increment(ref _count);
        }
    }

    /// <summary>True once for a marked grain not marked too long ago: it has no stored state to read.</summary>
    public bool TakeIfNew(GrainId grain)
    {
        if (!_marks.TryRemove(grain, out var at))
        {
            return false;
        }
        Interlocked.Decrement(ref _count);
        return Stopwatch.GetTimestamp() - at <= MaxAge;
    }

    /// <summary>Marks standing (for tests and metrics).</summary>
    public int Count => Volatile.Read(ref _count);
}
