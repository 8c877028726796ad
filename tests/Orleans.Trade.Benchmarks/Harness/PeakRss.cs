using System.Collections.Concurrent;
using System.Globalization;

namespace Orleans.Trade.Benchmarks.Harness;

/// <summary>
/// The peak resident memory of silo processes over a measured window, from <c>/proc/&lt;pid&gt;/status</c>. Watching a process
/// resets the kernel's high-water mark (<c>clear_refs</c> 5), and VmRSS and VmHWM are read every 250 ms, so a peak between two
/// samples still counts; a SIGKILLed process keeps the peak of its last sample.
/// </summary>
public sealed class PeakRss : IAsyncDisposable
{
    private const int SampleIntervalMs = 250;
    private readonly ConcurrentDictionary<int, Watched> _watched = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;

    private PeakRss() => _sampling = Task.Run(SampleAsync);

    /// <summary>Bytes; 0 until a sample was read.</summary>
    public long PeakBytes => _watched.Values.Select(w => Interlocked.Read(ref w.PeakBytes)).DefaultIfEmpty(0).Max();

    /// <summary>False if any process's high-water mark could not be reset: its peak is then from the samples alone.</summary>
    public bool HighWaterMarkReset => _watched.Values.All(w => w.HighWaterMarkReset);

    /// <summary>Each watched process's label and peak, in the order they were watched.</summary>
    public IReadOnlyList<(string Label, long PeakBytes)> Processes =>
        _watched.Values.OrderBy(w => w.Order).Select(w => (w.Label, Interlocked.Read(ref w.PeakBytes))).ToArray();

    public static PeakRss Watch(string label, int pid)
    {
        var peak = new PeakRss();
        peak.Add(label, pid);
        return peak;
    }

    /// <summary>Also watch <paramref name="pid"/> from now on (another silo of the cluster, or a silo started again).</summary>
    public void Add(string label, int pid)
    {
        bool reset;
        try
        {
            File.WriteAllText($"/proc/{pid}/clear_refs", "5");
            reset = true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            reset = false;
        }
        var watched = new Watched(label, pid, _watched.Count, reset);
        _watched[pid] = watched;
        Sample(watched);
    }

    /// <summary>Takes a last sample of every process still running and stops sampling; the peaks stay readable.</summary>
    public async Task<long> StopAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            foreach (var watched in _watched.Values)
            {
                Sample(watched);
            }
            await _stop.CancelAsync();
            await _sampling;
        }
        return PeakBytes;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    public static string MiB(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>"silo 0 612 MiB, silo 1 540 MiB", for a row's note.</summary>
    public string Describe() => string.Join(", ", Processes.Select(p => $"{p.Label} {MiB(p.PeakBytes)} MiB")) + Caveat;

    /// <summary>Empty when the high-water marks were reset; otherwise a note that the peak may miss a spike between samples.</summary>
    public string Caveat => HighWaterMarkReset ? "" : " (peak RSS from 250 ms samples only: VmHWM could not be reset here)";

    private async Task SampleAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                await Task.Delay(SampleIntervalMs, _stop.Token);
                foreach (var watched in _watched.Values)
                {
                    Sample(watched);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static void Sample(Watched watched)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines($"/proc/{watched.Pid}/status");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return; // the process is gone (killed or exited): its peak stays what was last read
        }
        var rss = Kilobytes(lines, "VmRSS:");
        var highWater = watched.HighWaterMarkReset ? Kilobytes(lines, "VmHWM:") : 0;
        var bytes = Math.Max(rss, highWater) * 1024;
        long seen;
        while ((seen = Interlocked.Read(ref watched.PeakBytes)) < bytes && Interlocked.CompareExchange(ref watched.PeakBytes, bytes, seen) != seen)
        {
        }
    }

    private static long Kilobytes(string[] statusLines, string field)
    {
        var line = statusLines.FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
        // "VmRSS:	  123456 kB"
        return line is null ? 0 : long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }

    private sealed class Watched(string label, int pid, int order, bool highWaterMarkReset)
    {
        public long PeakBytes;
        public string Label { get; } = label;
        public int Pid { get; } = pid;
        public int Order { get; } = order;
        public bool HighWaterMarkReset { get; } = highWaterMarkReset;
    }
}
