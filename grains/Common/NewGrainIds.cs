using System.Collections.Concurrent;
using System.Diagnostics;

namespace Orleans.Trade.Common;

/// <summary>
/// Grains this silo has just minted an id for (a new order's ULID) and that therefore have no stored state yet: their first
/// activation may skip the storage read. A mark is taken by the first read of that grain here, and the minting grain forgets it
/// as soon as its first call to the new grain has returned: in a cluster that call may have activated the grain on another silo,
/// and a later activation here (after that silo died, or after the grain was collected) must read what that one wrote. A mark
/// neither taken nor forgotten (a call that never returned) expires after 10 s. Only an activation writes its own state and
/// only after its read, so no row can exist while the mark stands; should one anyway, the new-row write fails its version
/// check instead of overwriting it.
/// </summary>
public sealed class NewGrainIds : INewGrainMarks
{
    /// <summary>Beyond this many marks standing (calls in flight to new grains) no more are kept.</summary>
    private const int MaxMarks = 100_000;
    private static readonly long MaxAge = Stopwatch.Frequency * 10;
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

    /// <summary>Drops a mark once the call that first reached the grain has returned, wherever that call activated it.</summary>
    public void Forget(GrainId grain)
    {
        if (_marks.TryRemove(grain, out _))
        {
            Interlocked.Decrement(ref _count);
        }
    }

    /// <summary>Marks standing (for tests and metrics).</summary>
    public int Count => Volatile.Read(ref _count);
}
