using System.Collections.Concurrent;
using System.Diagnostics;

namespace Orleans.Trade.Benchmarks.Load;

/// <summary>A server taken out of a run (<see cref="Up"/> false) or put back (true), at a Stopwatch timestamp.</summary>
public sealed record ServerEvent(int Server, long Timestamp, bool Up);

/// <summary>
/// The servers of a run, as a load balancer sees them: one that leaves a request without an answer is taken out, checked on
/// <c>/health/ready</c> every 250 ms and put back once it answers 2xx. With a single server nothing is ever taken out.
/// </summary>
internal sealed class Endpoints : IDisposable
{
    private const int HealthCheckIntervalMs = 250;
    private const int HealthCheckTimeoutMs = 2_000;
    private readonly IReadOnlyList<HttpClient> _clients;
    private readonly int[] _down;
    private readonly ConcurrentQueue<ServerEvent> _events = new();
    private readonly CancellationTokenSource _stop = new();

    public Endpoints(IReadOnlyList<HttpClient> clients)
    {
        _clients = clients.Count > 0 ? clients : throw new ArgumentException("A run needs at least one server.", nameof(clients));
        _down = new int[clients.Count];
    }

    public IReadOnlyList<ServerEvent> Events => _events.ToArray();

    public HttpClient Client(int server) => _clients[server];

    /// <summary>The connection's own server if it is in, else the next one that is; its own when all are out.</summary>
    public int Pick(int connection)
    {
        var preferred = connection % _clients.Count;
        for (var k = 0; k < _clients.Count; k++)
        {
            var server = (preferred + k) % _clients.Count;
            if (Volatile.Read(ref _down[server]) == 0)
            {
                return server;
            }
        }
        return preferred;
    }

    public void Report(int server, bool answered)
    {
        if (answered || _clients.Count == 1 || Interlocked.CompareExchange(ref _down[server], 1, 0) != 0)
        {
            return;
        }
        _events.Enqueue(new ServerEvent(server, Stopwatch.GetTimestamp(), Up: false));
        var stop = _stop.Token;
        _ = Task.Run(() => WatchAsync(server, stop));
    }

    private async Task WatchAsync(int server, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(HealthCheckIntervalMs, stop);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
                timeout.CancelAfter(HealthCheckTimeoutMs);
                using var response = await _clients[server].GetAsync("health/ready", timeout.Token);
                if (response.IsSuccessStatusCode)
                {
                    _events.Enqueue(new ServerEvent(server, Stopwatch.GetTimestamp(), Up: true));
                    Volatile.Write(ref _down[server], 0);
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException or ObjectDisposedException)
            {
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }
}
