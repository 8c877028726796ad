using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using HdrHistogram;

namespace Orleans.Trade.Benchmarks.Load;

/// <summary>One HTTP request of a run; <see cref="Kind"/> groups latencies (checkout, read, stock update, ...).</summary>
/// <summary>One request; <see cref="ApiKey"/>, when set, instead of the client's own key (a buyer's key of many).</summary>
public sealed record LoadRequest(HttpMethod Method, string Path, byte[]? Body, string Kind, string? IdempotencyKey = null, object? Tag = null, string? ApiKey = null);

/// <summary>How a scenario reads an answer: done work, a refusal the scenario expects (409 sold out), or an error.</summary>
public enum Outcome { Ok, Refused, Error }

/// <summary>What to send, how to judge answers, and when to stop.</summary>
public sealed class LoadPlan
{
    /// <summary>Concurrent connections (closed model: also the number of requests in flight).</summary>
    public required int Connections { get; init; }

    /// <summary>Open model when set: requests start on this schedule whatever the answers, latency counts from the scheduled time.</summary>
    public double? ArrivalRatePerSecond { get; init; }

    public required TimeSpan MaxDuration { get; init; }

    public long? MaxRequests { get; init; }

    /// <summary>The request for (connection or arrival slot, sequence number).</summary>
    public required Func<int, long, LoadRequest> Next { get; init; }

    /// <summary>Judges an answer; may call <see cref="LoadRun.Stop"/> (e.g. when the SKU is sold out).</summary>
    public required Func<LoadRun, LoadRequest, HttpStatusCode, string, Outcome> Judge { get; init; }

    /// <summary>
    /// Called for every request that ended as an error, with its status as the run counts it: the HTTP status code, or "timeout",
    /// "connection refused" (nothing listened: the request never reached a server) or "connection error" when there was no answer.
    /// </summary>
    public Action<LoadRequest, string>? OnError { get; init; }

    /// <summary>
    /// Closed model: a connection whose request ended in an error waits this long before its next one, as a client backs off;
    /// without it a dead server is hammered in a tight loop and the error count measures the loop, not the outage.
    /// </summary>
    public TimeSpan? ErrorPause { get; init; }

    /// <summary>
    /// Open model: at most this many requests in flight. A request due while that many are waiting starts when one of them ends,
    /// and its latency still counts from its scheduled time: it is late, not left out.
    /// </summary>
    public int MaxOutstanding { get; init; } = 20_000;
}

/// <summary>
/// The load generator: a closed model (N connections, each sending its next request when the previous answer arrives) or an
/// open model (a fixed arrival rate; latency is measured from the intended start, so a stalled server is not hidden by a
/// generator that waits for it — no coordinated omission). Latencies in microseconds, HdrHistogram, per request kind.
/// </summary>
public sealed class LoadRun
{
    private const long HighestLatencyUs = 300_000_000;
    private readonly LoadPlan _plan;
    private readonly Endpoints _endpoints;
    private readonly OutcomeTimeline _timeline;
    private readonly Dictionary<string, LongHistogram> _histograms = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Kind, string Status), long> _statuses = new();
    /// <summary>"200", "201", ... once each, so that counting an answer's status allocates nothing.</summary>
    private static readonly string[] StatusTexts = Enumerable.Range(0, 600).Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
    private readonly ConcurrentDictionary<string, long[]> _outcomes = new(StringComparer.Ordinal);
    private volatile bool _stopped;
    private long _stoppedAt;
    private long _sequence = -1;
    private long _waitedForSlot;
    /// <summary>Open model: how late the generator sent each request against its schedule (µs), its own share of the latency.</summary>
    private readonly LongHistogram _sendLag = new(HighestLatencyUs, 3);

    private LoadRun(LoadPlan plan, Endpoints endpoints, long startedTimestamp)
    {
        _plan = plan;
        _endpoints = endpoints;
        _timeline = new OutcomeTimeline(startedTimestamp, plan.MaxDuration);
    }

    public string? StopReason { get; private set; }

    public void Stop(string reason)
    {
        if (!_stopped)
        {
            StopReason ??= reason;
            Interlocked.CompareExchange(ref _stoppedAt, Stopwatch.GetTimestamp(), 0);
            _stopped = true;
        }
    }

    /// <summary>An HttpClient for load: one pool of <paramref name="connections"/> connections, no proxy, long time-out.</summary>
    public static HttpClient CreateClient(Uri baseAddress, int connections, string? apiKey)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = connections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        var client = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        }
        return client;
    }

    public static Task<LoadResult> RunAsync(LoadPlan plan, HttpClient client) => RunAsync(plan, [client]);

    /// <summary>
    /// Spreads the connections over several servers (connection c prefers server c mod n), as a load balancer in front of a
    /// cluster would: a server that leaves a request without an answer is taken out until its /health/ready answers again,
    /// and its connections go to the next server meanwhile. With one server every request goes to it, answered or not.
    /// </summary>
    public static async Task<LoadResult> RunAsync(LoadPlan plan, IReadOnlyList<HttpClient> servers)
    {
        using var endpoints = new Endpoints(servers);
        var started = Stopwatch.GetTimestamp();
        var run = new LoadRun(plan, endpoints, started);
        if (plan.ArrivalRatePerSecond is { } rate)
        {
            await run.OpenModelAsync(rate, started);
        }
        else
        {
            await Task.WhenAll(Enumerable.Range(0, plan.Connections).Select(c => Task.Run(() => run.ConnectionAsync(c, started))));
        }
        var elapsed = Stopwatch.GetElapsedTime(started);
        if (run.StopReason is null && elapsed >= plan.MaxDuration)
        {
            run.StopReason = "duration";
        }
        return run.Result(elapsed);
    }

    private bool ShouldContinue(long started, out long sequence)
    {
        sequence = -1;
        if (_stopped || Stopwatch.GetElapsedTime(started) >= _plan.MaxDuration)
        {
            return false;
        }
        sequence = Interlocked.Increment(ref _sequence);
        if (_plan.MaxRequests is { } max && sequence >= max)
        {
            Stop("request count");
            return false;
        }
        return true;
    }

    private async Task ConnectionAsync(int connection, long started)
    {
        while (ShouldContinue(started, out var sequence))
        {
            var request = _plan.Next(connection, sequence);
            if (await SendAsync(connection, request, Stopwatch.GetTimestamp()) == Outcome.Error && _plan.ErrorPause is { } pause)
            {
                await Task.Delay(pause);
            }
        }
    }

    private async Task OpenModelAsync(double ratePerSecond, long started)
    {
        var ticksPerRequest = Stopwatch.Frequency / ratePerSecond;
        var outstanding = new ConcurrentDictionary<long, Task>();
        using var slots = new SemaphoreSlim(_plan.MaxOutstanding, _plan.MaxOutstanding);
        long slot = 0;
        // When the last wait for a slot ended: requests that fell due during it are late by the server's doing, not the generator's.
        long resumedAt = 0;
        while (ShouldContinue(started, out var sequence))
        {
            var intended = started + (long)(slot * ticksPerRequest);
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), intended);
            if (wait > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(wait);
            }
            // The generator's own lateness: from the schedule, or from the end of the last wait for a slot (the server's).
            _sendLag.RecordValue(Math.Clamp((long)Stopwatch.GetElapsedTime(Math.Max(intended, resumedAt)).TotalMicroseconds, 1, HighestLatencyUs));
            if (!slots.Wait(0))
            {
                // The server is far behind the schedule: this request waits for one in flight to end, and its latency counts
                // from its scheduled time all the same (leaving it out would hide the slowest requests: coordinated omission).
                _waitedForSlot++;
                await slots.WaitAsync();
                resumedAt = Stopwatch.GetTimestamp();
            }
            var connection = (int)(slot % _plan.Connections);
            var request = _plan.Next(connection, sequence);
            var id = slot++;
            var task = SendAsync(connection, request, intended);
            outstanding[id] = task;
            _ = task.ContinueWith(_ =>
            {
                outstanding.TryRemove(id, out var _);
                slots.Release();
            }, TaskScheduler.Default);
        }
        await Task.WhenAll(outstanding.Values.ToArray());
    }

    private async Task<Outcome> SendAsync(int connection, LoadRequest request, long startTimestamp)
    {
        var server = _endpoints.Pick(connection);
        HttpStatusCode status;
        string body;
        string statusKey;
        try
        {
            using var message = new HttpRequestMessage(request.Method, request.Path);
            if (request.Body is not null)
            {
                message.Content = new ByteArrayContent(request.Body);
                message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            }
            if (request.IdempotencyKey is not null)
            {
                message.Headers.Add("Idempotency-Key", request.IdempotencyKey);
            }
            if (request.ApiKey is not null)
            {
                message.Headers.Add("X-Api-Key", request.ApiKey);
            }
            using var response = await _endpoints.Client(server).SendAsync(message);
            body = await response.Content.ReadAsStringAsync();
            status = response.StatusCode;
            statusKey = (int)status is >= 0 and < 600 and var known ? StatusTexts[known] : ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            status = 0;
            body = e.Message;
            statusKey = e switch
            {
                TaskCanceledException => "timeout",
                HttpRequestException { InnerException: System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused } } => "connection refused",
                _ => "connection error",
            };
        }
        _endpoints.Report(server, answered: status != 0);
        var latencyUs = Math.Min(HighestLatencyUs, (long)Stopwatch.GetElapsedTime(startTimestamp).TotalMicroseconds);
        var outcome = status == 0 ? Outcome.Error : _plan.Judge(this, request, status, body);
        if (outcome == Outcome.Error)
        {
            _plan.OnError?.Invoke(request, statusKey);
        }
        _timeline.Record(Stopwatch.GetTimestamp(), outcome);
        lock (_histograms)
        {
            if (!_histograms.TryGetValue(request.Kind, out var histogram))
            {
                _histograms[request.Kind] = histogram = new LongHistogram(HighestLatencyUs, 3);
            }
            histogram.RecordValue(Math.Max(1, latencyUs));
        }
        _statuses.AddOrUpdate((request.Kind, statusKey), 1, static (_, n) => n + 1);
        Interlocked.Increment(ref _outcomes.GetOrAdd(request.Kind, _ => new long[3])[(int)outcome]);
        return outcome;
    }

    private LoadResult Result(TimeSpan elapsed)
    {
        var kinds = _histograms.Keys.Order(StringComparer.Ordinal).Select(kind =>
        {
            var counts = _outcomes.GetValueOrDefault(kind) ?? new long[3];
            return new KindResult(kind, _histograms[kind], counts[(int)Outcome.Ok], counts[(int)Outcome.Refused], counts[(int)Outcome.Error]);
        }).ToArray();
        var sendingEnded = _stoppedAt != 0 ? _timeline.Offset(_stoppedAt) : elapsed < _plan.MaxDuration ? elapsed : _plan.MaxDuration;
        var statuses = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var ((kind, status), count) in _statuses)
        {
            statuses[$"{kind} {status}"] = count;
        }
        return new LoadResult(elapsed, kinds, statuses, _waitedForSlot, StopReason ?? "done",
            _plan.Connections, _plan.ArrivalRatePerSecond, _timeline, _endpoints.Events, sendingEnded)
        {
            SendLag = _plan.ArrivalRatePerSecond is null ? null : _sendLag,
        };
    }
}

/// <summary>Latencies and outcomes of one request kind.</summary>
public sealed record KindResult(string Kind, LongHistogram Latency, long Ok, long Refused, long Errors)
{
    public long Requests => Ok + Refused + Errors;
    public double PercentileMs(double percentile) => Latency.TotalCount == 0 ? 0 : Latency.GetValueAtPercentile(percentile) / 1000.0;
}

/// <summary>
/// A run's results. <see cref="Elapsed"/> lasts until the last answer; <see cref="SendingEnded"/> is when the run stopped starting
/// requests (a <see cref="LoadRun.Stop"/>, such as sold out, or --max-duration), from the run's start. <see cref="WaitedForSlot"/>:
/// open model only, the requests that were due while <see cref="LoadPlan.MaxOutstanding"/> were in flight, started late.
/// </summary>
public sealed record LoadResult(TimeSpan Elapsed, IReadOnlyList<KindResult> Kinds, IReadOnlyDictionary<string, long> Statuses, long WaitedForSlot,
    string StopReason, int Connections, double? ArrivalRatePerSecond, OutcomeTimeline Timeline, IReadOnlyList<ServerEvent> ServerEvents,
    TimeSpan SendingEnded)
{
    public KindResult Kind(string kind) => Kinds.FirstOrDefault(k => k.Kind == kind) ?? new KindResult(kind, new LongHistogram(1000, 3), 0, 0, 0);

    /// <summary>
    /// Open model only: how late the generator itself started each request against its schedule (µs). The latencies count
    /// from the schedule, so this part of them is the generator's (sharing the machine's cores), not the server's.
    /// </summary>
    public LongHistogram? SendLag { get; init; }

    /// <summary>All kinds together.</summary>
    public KindResult Total
    {
        get
        {
            var all = new LongHistogram(300_000_000, 3);
            foreach (var k in Kinds)
            {
                all.Add(k.Latency);
            }
            return new KindResult("all", all, Kinds.Sum(k => k.Ok), Kinds.Sum(k => k.Refused), Kinds.Sum(k => k.Errors));
        }
    }

    public string StatusSummary => string.Join(", ", Statuses.Select(s => $"{s.Key}: {s.Value:N0}"));
}
