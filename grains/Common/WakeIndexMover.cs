using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Orleans.Trade.Common;

/// <summary>
/// Moves a grain's indexed wake time without a state write. A write that leaves follow-up calls to make (an order's escrow hold
/// or stock commits, a sandbox payment's webhooks) is indexed to wake soon, in case the calls are cut off; once they are done
/// in memory, the grain moves its wake time to its next real deadline here instead of writing its state again. Moves are
/// batched per silo into one index update (only rows still at the version the grain wrote). A move that is lost (a crash, a
/// failed update, a newer write) costs nothing but what happened before: the sweeper wakes the grain once and it answers then.
/// Without this, every paid order of a flash sale came due a minute after its payment, and the sweeper (a bounded number of
/// grains a sweep) fell behind the orders' real deadlines.
/// </summary>
public sealed class WakeIndexMover : IAsyncDisposable
{
    private const int MaxPerUpdate = 2_000;
    private readonly IDeadlineIndex _index;
    private readonly ILogger<WakeIndexMover> _logger;
    // Bounded: under a failing database, moves are dropped rather than held (the sweeper covers them).
    private readonly Channel<(DueGrain Grain, WakeAnswer Answer)> _moves = Channel.CreateBounded<(DueGrain, WakeAnswer)>(
        new BoundedChannelOptions(100_000) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly Task _pump;
    private long _moved;
    private long _lost;

    /// <summary>Moves stored (the row may already have been at a newer version, which a move leaves alone).</summary>
    public long Moved => Interlocked.Read(ref _moved);

    /// <summary>Moves dropped (queue full) or whose update failed: those grains are woken by the sweeper instead.</summary>
    public long Lost => Interlocked.Read(ref _lost);

    public WakeIndexMover(IDeadlineIndex index, ILogger<WakeIndexMover> logger)
    {
        _index = index;
        _logger = logger;
        _pump = Task.Run(PumpAsync);
    }

    /// <summary>The index row of <paramref name="grainId"/>'s <paramref name="stateName"/> state, if still at <paramref name="etag"/>, wakes at <paramref name="wakeAt"/>.</summary>
    public void Move(string stateName, GrainId grainId, string? etag, DateTimeOffset? wakeAt)
    {
        if (etag is not null && !_moves.Writer.TryWrite((new DueGrain(stateName, grainId.ToString(), etag, default), new WakeAnswer(etag, wakeAt))))
        {
            Interlocked.Increment(ref _lost);
        }
    }

    private async Task PumpAsync()
    {
        var batch = new List<(DueGrain, WakeAnswer)>();
        var reader = _moves.Reader;
        while (await reader.WaitToReadAsync())
        {
            // Whatever came in while the last update ran goes in the next one.
            while (batch.Count < MaxPerUpdate && reader.TryRead(out var move))
            {
                batch.Add(move);
            }
            try
            {
                await _index.ReindexAsync(batch, CancellationToken.None);
                Interlocked.Add(ref _moved, batch.Count);
            }
            catch (Exception ex)
            {
                Interlocked.Add(ref _lost, batch.Count);
                _logger.LogWarning(ex, "{Count} wake-time moves were not stored; the deadline sweeper wakes those grains instead", batch.Count);
            }
            batch.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _moves.Writer.TryComplete();
        await _pump;
    }
}
