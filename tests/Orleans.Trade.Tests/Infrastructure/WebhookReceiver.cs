using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;

namespace Orleans.Trade.Tests.Infrastructure;

/// <summary>
/// A real HTTP endpoint on loopback standing in for the notification service: it records every POST and answers 500 to the
/// first attempt of each notification, so the outbox has to retry.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public WebhookReceiver(bool failFirstAttempt = true)
    {
        FailFirstAttempt = failFirstAttempt;
        Port = FreePorts.Next();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(Serve);
    }

    public int Port { get; }
    public bool FailFirstAttempt { get; }
    public Uri Url => new($"http://127.0.0.1:{Port}/notifications");

    /// <summary>Every attempt received, in order: (notification id from the Idempotency-Key header, body, answered status).</summary>
    public ConcurrentQueue<(string Id, JsonObject Body, int Status)> Attempts { get; } = new();

    /// <summary>Every attempt with its headers and raw body, for receivers that check signatures.</summary>
    public ConcurrentQueue<(IReadOnlyDictionary<string, string> Headers, byte[] RawBody, int Status)> RawAttempts { get; } = new();

    public IEnumerable<JsonObject> Delivered => Attempts.Where(a => a.Status == 200).Select(a => a.Body);

    private async Task Serve()
    {
        var seen = new ConcurrentDictionary<string, int>();
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
            using var raw = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(raw);
            var body = (JsonObject)JsonNode.Parse(raw.ToArray())!;
            var id = context.Request.Headers["Idempotency-Key"] ?? "";
            var attempt = seen.AddOrUpdate(id, 1, (_, n) => n + 1);
            var status = FailFirstAttempt && attempt == 1 ? 500 : 200;
            Attempts.Enqueue((id, body, status));
            RawAttempts.Enqueue((context.Request.Headers.AllKeys.Where(k => k is not null)
                .ToDictionary(k => k!, k => context.Request.Headers[k] ?? ""), raw.ToArray(), status));
            context.Response.StatusCode = status;
            context.Response.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            await _loop;
        }
        catch (Exception)
        {
        }
        _listener.Close();
    }
}
