using System.Net;
using Orleans.Trade.Benchmarks.Load;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Harness;

/// <summary>
/// The benchmark's load generator against a slow server on loopback. In the open model every scheduled request must be sent
/// and counted, with its latency from its schedule, even when the server falls far behind: leaving the late ones out would
/// hide the slowest requests (coordinated omission), as an earlier version did once 20,000 were in flight.
/// </summary>
public sealed class LoadGeneratorTests
{
    [Fact]
    public async Task The_open_model_sends_and_counts_every_scheduled_request_when_the_server_falls_behind()
    {
        await using var server = new SlowServer(TimeSpan.FromMilliseconds(100));
        using var client = LoadRun.CreateClient(server.BaseAddress, 8, null);
        var plan = new LoadPlan
        {
            Connections = 8,
            // 50 requests due within half a second; five in flight at 100 ms each serve 50 a second, so the last wait.
            ArrivalRatePerSecond = 100,
            MaxOutstanding = 5,
            MaxRequests = 50,
            MaxDuration = TimeSpan.FromSeconds(30),
            Next = (_, sequence) => new LoadRequest(HttpMethod.Post, "/checkout", [1], "checkout", IdempotencyKey: $"k{sequence}"),
            Judge = (_, _, status, _) => status == HttpStatusCode.Created ? Outcome.Ok : Outcome.Error,
        };

        var result = await LoadRun.RunAsync(plan, client);

        var checkout = result.Kind("checkout");
        Assert.Equal(50, checkout.Ok);
        Assert.Equal(0, checkout.Errors);
        Assert.Equal(50, server.Received);
        Assert.True(server.MostInFlight <= 5, $"{server.MostInFlight} requests were in flight at once");
        Assert.True(result.WaitedForSlot > 0, "no request waited for one in flight to end");
        // The last requests were due at about 0.5 s and could start only at about 0.9 s: their latency counts the wait.
        Assert.True(checkout.PercentileMs(100) >= 350, $"the slowest request took {checkout.PercentileMs(100)} ms from its schedule");
        Assert.True(checkout.PercentileMs(0) >= 90, $"the fastest request took {checkout.PercentileMs(0)} ms, under the server's 100 ms");
        // The generator's own lateness leaves the wait for a slot out: that part is the server's.
        var lag = result.SendLag!;
        Assert.True(lag.GetValueAtPercentile(90) < 100_000, $"the generator's send lag p90 was {lag.GetValueAtPercentile(90) / 1000.0} ms");
    }

    [Fact]
    public async Task The_closed_model_keeps_each_connection_to_one_request_in_flight()
    {
        await using var server = new SlowServer(TimeSpan.FromMilliseconds(20));
        using var client = LoadRun.CreateClient(server.BaseAddress, 3, null);
        var plan = new LoadPlan
        {
            Connections = 3,
            MaxRequests = 30,
            MaxDuration = TimeSpan.FromSeconds(30),
            Next = (_, sequence) => new LoadRequest(HttpMethod.Post, "/checkout", [1], "checkout"),
            Judge = (_, _, status, _) => status == HttpStatusCode.Created ? Outcome.Ok : Outcome.Error,
        };

        var result = await LoadRun.RunAsync(plan, client);

        Assert.Equal(30, result.Kind("checkout").Ok);
        Assert.Equal(30, server.Received);
        Assert.True(server.MostInFlight <= 3, $"{server.MostInFlight} requests were in flight at once");
        Assert.Equal("request count", result.StopReason);
    }

    /// <summary>Answers every request 201 after a fixed delay, counting them and the most in flight at once.</summary>
    private sealed class SlowServer : IAsyncDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly CancellationTokenSource _stop = new();
        private readonly TimeSpan _delay;
        private readonly Task _loop;
        private int _received;
        private int _inFlight;
        private int _mostInFlight;

        public SlowServer(TimeSpan delay)
        {
            _delay = delay;
            var port = FreePorts.Next();
            BaseAddress = new Uri($"http://127.0.0.1:{port}/");
            _listener.Prefixes.Add(BaseAddress.ToString());
            _listener.Start();
            _loop = Task.Run(ServeAsync);
        }

        public Uri BaseAddress { get; }
        public int Received => Volatile.Read(ref _received);
        public int MostInFlight => Volatile.Read(ref _mostInFlight);

        private async Task ServeAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception) when (_stop.IsCancellationRequested)
                {
                    return;
                }
                _ = Task.Run(() => AnswerAsync(context));
            }
        }

        private async Task AnswerAsync(HttpListenerContext context)
        {
            Interlocked.Increment(ref _received);
            var now = Interlocked.Increment(ref _inFlight);
            int most;
            while (now > (most = Volatile.Read(ref _mostInFlight)) && Interlocked.CompareExchange(ref _mostInFlight, now, most) != most)
            {
            }
            await Task.Delay(_delay);
            Interlocked.Decrement(ref _inFlight);
            context.Response.StatusCode = 201;
            context.Response.Close();
        }

        public async ValueTask DisposeAsync()
        {
            _stop.Cancel();
            _listener.Stop();
            _listener.Close();
            await _loop;
        }
    }
}
