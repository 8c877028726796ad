using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Orleans.Trade.Silo.Storage;

/// <summary>
/// The storage batchers' instruments (meter <c>Orleans.Trade.Storage</c>, exported on <c>/metrics</c>). Both histograms advise
/// their own bucket boundaries: OpenTelemetry's defaults (0, 5, 10, 25 … 10,000) suit milliseconds, so a duration in seconds
/// would land whole in the first bucket and give no percentile.
/// </summary>
public static class StorageInstruments
{
    /// <summary>Round-trip duration buckets, in seconds: fine from 1 ms to 100 ms, where a healthy write lies, then coarse to 10 s.</summary>
    public static IReadOnlyList<double> RoundTripBoundaries { get; } =
        [0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.0125, 0.015, 0.0175, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>Items per round trip: powers of two up to the largest batch a batcher may be configured with.</summary>
    public static IReadOnlyList<int> BatchSizeBoundaries { get; } = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096];

    internal static readonly Meter Meter = new("Orleans.Trade.Storage");
    internal static readonly Histogram<int> BatchSize = Meter.CreateHistogram("trade.storage.batch.size", "{item}",
        "Items carried by one database round trip of a storage batcher.", tags: null,
        new InstrumentAdvice<int> { HistogramBucketBoundaries = BatchSizeBoundaries });
    internal static readonly Histogram<double> RoundTrip = Meter.CreateHistogram("trade.storage.round_trip.duration", "s",
        "Duration of one database round trip of a storage batcher.", tags: null,
        new InstrumentAdvice<double> { HistogramBucketBoundaries = RoundTripBoundaries });
}

/// <summary>
/// Group commit across callers: requests queue up while a round trip is in flight and the next round trip carries all of them
/// (at most <c>maxBatch</c>), so many grains share one transaction. Every caller is answered from the round trip that carried its
/// request; if that round trip fails, every request in it fails and nothing later is affected.
/// </summary>
/// <param name="roundTrip">Carries a batch; answers one result per item, in order.</param>
/// <param name="maxBatch">Upper bound on items per round trip.</param>
/// <param name="maxInFlight">Round trips that may run at once (each on its own connection).</param>
/// <param name="name">The batcher's name on its metrics (tag <c>batcher</c>).</param>
public sealed class RoundTripBatcher<TItem, TResult>(
    Func<IReadOnlyList<TItem>, CancellationToken, Task<IReadOnlyList<TResult>>> roundTrip, int maxBatch, int maxInFlight, string name = "unnamed")
{
    private readonly KeyValuePair<string, object?> _tag = new("batcher", name);
    private readonly int _maxBatch = maxBatch >= 1 ? maxBatch : throw new ArgumentOutOfRangeException(nameof(maxBatch), "At least one item per round trip.");
    private readonly int _maxInFlight = maxInFlight >= 1 ? maxInFlight : throw new ArgumentOutOfRangeException(nameof(maxInFlight), "At least one round trip in flight.");
    private readonly Lock _lock = new();
    private readonly Queue<(TItem Item, TaskCompletionSource<TResult> Answer)> _queue = new();
    private int _inFlight;

    /// <summary>Items waiting for a round trip (for metrics and tests).</summary>
    public int Queued
    {
        get
        {
            lock (_lock)
            {
                return _queue.Count;
            }
        }
    }

    public Task<TResult> EnqueueAsync(TItem item)
    {
        var answer = new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool start;
        lock (_lock)
        {
            _queue.Enqueue((item, answer));
            start = _inFlight < _maxInFlight;
            if (start)
            {
                _inFlight++;
            }
        }
        if (start)
        {
            // Off the caller's stack: the caller may be a grain turn, and the loop must not run on its scheduler.
            _ = Task.Run(DrainAsync);
        }
        return answer.Task;
    }

    private async Task DrainAsync()
    {
        while (true)
        {
            List<(TItem Item, TaskCompletionSource<TResult> Answer)> batch;
            lock (_lock)
            {
                if (_queue.Count == 0)
                {
                    _inFlight--;
                    return;
                }
                batch = new List<(TItem, TaskCompletionSource<TResult>)>(Math.Min(_queue.Count, _maxBatch));
                while (batch.Count < _maxBatch && _queue.TryDequeue(out var next))
                {
                    batch.Add(next);
                }
            }
            StorageInstruments.BatchSize.Record(batch.Count, _tag);
            var started = Stopwatch.GetTimestamp();
            try
            {
                var results = await roundTrip(batch.Select(b => b.Item).ToArray(), CancellationToken.None);
                StorageInstruments.RoundTrip.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, _tag);
                if (results.Count != batch.Count)
                {
                    throw new InvalidOperationException($"A round trip answered {results.Count} results for {batch.Count} items.");
                }
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Answer.TrySetResult(results[i]);
                }
            }
            catch (Exception ex)
            {
                foreach (var (_, answer) in batch)
                {
                    answer.TrySetException(ex);
                }
            }
        }
    }
}
