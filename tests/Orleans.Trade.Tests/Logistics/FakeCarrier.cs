using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Logistics;

/// <summary>
/// A carrier's booking endpoint on loopback, for the http carrier adapter: it records each booking (headers and body) and
/// answers as its <see cref="Mode"/> says: a new tracking number, a refusal, or nothing until the adapter has given up.
/// </summary>
public sealed class FakeCarrier : IAsyncDisposable
{
    /// <summary>Book: a new number at once; Refuse: 422; Slow: nothing for 4 s; Hold: a new number once <see cref="Release"/> is called.</summary>
    public enum Answer { Book, Refuse, Slow, Hold }

    private TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Answers the bookings held so far (<see cref="Answer.Hold"/>); later ones are held again.</summary>
    public void Release() => Interlocked.Exchange(ref _held, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _issued;

    public FakeCarrier()
    {
        Port = FreePorts.Next();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(Serve);
    }

    public int Port { get; }
    public Uri Url => new($"http://127.0.0.1:{Port}/bookings");
    public volatile Answer Mode = Answer.Book;

    /// <summary>Every booking received: its Authorization and Idempotency-Key headers, its body, and the status answered.</summary>
    public ConcurrentQueue<(string? Authorization, string? IdempotencyKey, JsonObject Body, int Status)> Bookings { get; } = new();

    private async Task Serve()
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
            _ = Task.Run(() => Respond(context));
        }
    }

    private async Task Respond(HttpListenerContext context)
    {
        using var raw = new MemoryStream();
        await context.Request.InputStream.CopyToAsync(raw);
        var body = (JsonObject)JsonNode.Parse(raw.ToArray())!;
        var mode = Mode;
        var held = Volatile.Read(ref _held);
        var (status, answer) = mode switch
        {
            Answer.Refuse => (422, """{"title":"Unprocessable","detail":"no pick-up in this area today"}"""),
            _ => (201, $$"""{"trackingNumber":"FC{{Interlocked.Increment(ref _issued):D8}}DE"}"""),
        };
        Bookings.Enqueue((context.Request.Headers["Authorization"], context.Request.Headers["Idempotency-Key"], body, status));
        if (mode == Answer.Slow)
        {
            await Task.Delay(TimeSpan.FromSeconds(4));
        }
        else if (mode == Answer.Hold)
        {
            await Task.WhenAny(held.Task, Task.Delay(TimeSpan.FromSeconds(30)));
        }
        try
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            var bytes = Encoding.UTF8.GetBytes(answer);
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
        catch (Exception)
        {
            // The adapter gave up and closed the connection: nothing to answer to.
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
