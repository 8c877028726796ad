using System.Collections.Concurrent;
using System.Net.Http.Json;
using Orleans.Trade.Common;

namespace Orleans.Trade.Silo.Storage;

public sealed class NotificationOptions
{
    /// <summary>Where order notifications are POSTed (JSON); unset means they are recorded as skipped.</summary>
    public Uri? WebhookUrl { get; set; }

    /// <summary>
    /// Whether <see cref="WebhookUrl"/> may be plain http to a host other than this machine's loopback (R-PAY-4 asks for TLS on
    /// every external link): only for a receiver inside a network trusted to carry buyers' order data in the clear.
    /// </summary>
    public bool AllowPlainHttp { get; set; }

    /// <summary>Why <see cref="WebhookUrl"/> cannot be used, or null when it can.</summary>
    public string? WebhookUrlProblem() => WebhookUrl switch
    {
        null => null,
        { IsAbsoluteUri: false } => "Notifications:WebhookUrl must be an absolute https URL.",
        { Scheme: "https" } => null,
        { Scheme: "http" } url when url.IsLoopback || AllowPlainHttp => null,
        { Scheme: "http" } => "Notifications:WebhookUrl must use https (TLS on every external link, R-PAY-4): notifications carry buyers' names "
            + "and addresses. Plain http is taken for a loopback host, or with Notifications:AllowPlainHttp=true for a receiver inside a trusted network.",
        var url => $"Notifications:WebhookUrl must be an https URL, not {url.Scheme}.",
    };

    /// <summary>
    /// The secret each POST is signed with (header <see cref="SignatureHeader"/>, see <see cref="WebhookSignature"/>), so the
    /// receiver can tell our notifications from forged ones; at least 16 characters. Unset: sent unsigned (a warning at start).
    /// </summary>
    public string? SigningSecret { get; set; }

    public const string SignatureHeader = "Trade-Signature";
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);
    public int BatchSize { get; set; } = 100;
    /// <summary>
    /// How long a notification is tried before it is given up (counted from when it was written): days, so a receiver's outage of
    /// hours loses nothing (after 20 tries, about two hours, every event of an outage was dropped).
    /// </summary>
    public TimeSpan GiveUpAfter { get; set; } = TimeSpan.FromDays(3);
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(10);
    /// <summary>
    /// How long a claimed row is hidden from other silos while it is being sent; at least as long as a whole batch can take
    /// (<see cref="SendTimeout"/> for each of its rounds of <see cref="Parallelism"/> sends), so no row is claimed twice.
    /// </summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(1);

    public const int Parallelism = 16;

    /// <summary>The HTTP time-out of one send.</summary>
    public static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// After a notification's <paramref name="attempts"/>-th failed send at <paramref name="now"/>: when to try again (doubling
    /// from 2 s up to <see cref="MaxBackoff"/>), and whether to give it up (it was written <see cref="GiveUpAfter"/> ago).
    /// </summary>
    public (TimeSpan Backoff, bool GiveUp) AfterFailure(int attempts, DateTimeOffset createdAt, DateTimeOffset now) =>
        (TimeSpan.FromSeconds(Math.Min(MaxBackoff.TotalSeconds, Math.Pow(2, Math.Min(attempts, 20)))), now - createdAt >= GiveUpAfter);

    public TimeSpan EffectiveLease()
    {
        var rounds = (Math.Max(1, BatchSize) + Parallelism - 1) / Parallelism;
        var batchTakesAtMost = SendTimeout * rounds + TimeSpan.FromSeconds(30);
        return Lease > batchTakesAtMost ? Lease : batchTakesAtMost;
    }
}

/// <summary>
/// Delivers the notification outbox at least once: claims due rows (SKIP LOCKED on PostgreSQL, so several silos share the work),
/// POSTs each to the webhook with its id as Idempotency-Key, and retries failures with exponential backoff.
/// </summary>
public sealed class NotificationDispatcher(
    TradeDatabase database,
    IHttpClientFactory httpClients,
    Microsoft.Extensions.Options.IOptions<NotificationOptions> options,
    TradeClock clock,
    ILogger<NotificationDispatcher> logger) : BackgroundService
{
    /// <summary>What a notification records when no webhook is configured (set at insert by <see cref="SqlOrderStore"/>, or here).</summary>
    public const string SkippedNote = "skipped: no webhook configured";

    private sealed record Due(string Id, string OrderId, string Recipient, string Channels, string Event, string Status, DateTimeOffset CreatedAt, int Attempts);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (settings.WebhookUrl is not null && string.IsNullOrEmpty(settings.SigningSecret))
        {
            logger.LogWarning("Order notifications go to {WebhookUrl} unsigned: set Notifications:SigningSecret so the receiver can verify them", settings.WebhookUrl);
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            var sent = 0;
            try
            {
                sent = await DispatchBatchAsync(settings, stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Notification dispatch failed; retrying");
            }
            if (sent < settings.BatchSize)
            {
                await Task.Delay(settings.PollInterval, stoppingToken).ContinueWith(_ => { }, CancellationToken.None);
            }
        }
    }

    public async Task<int> DispatchBatchAsync(NotificationOptions settings, CancellationToken cancellationToken)
    {
        if (settings.WebhookUrl is null)
        {
            // Nowhere to send: this silo stores its own notifications recorded as skipped already. A due row was stored by a
            // silo that has a webhook (another one of the cluster, or this one before its settings changed) and waits for a
            // silo that has one: recording it as skipped here would drop it while that silo could send it.
            return 0;
        }
        var now = clock.GetUtcNow();
        var batch = await ClaimAsync(now, settings, cancellationToken);
        if (batch.Count == 0)
        {
            return 0;
        }
        var client = httpClients.CreateClient(nameof(NotificationDispatcher));
        var delivered = new ConcurrentBag<Due>();
        try
        {
            await SendAllAsync(batch, client, delivered, settings, cancellationToken);
        }
        finally
        {
            // Recorded also when shutdown cut the batch short: a row sent and not marked would be sent again by another silo.
            await MarkDeliveredAsync(delivered.ToArray(), null, CancellationToken.None);
        }
        return batch.Count;
    }

    private async Task SendAllAsync(IReadOnlyList<Due> batch, HttpClient client, ConcurrentBag<Due> delivered, NotificationOptions settings,
        CancellationToken cancellationToken) =>
        await Parallel.ForEachAsync(batch, new ParallelOptions { MaxDegreeOfParallelism = NotificationOptions.Parallelism, CancellationToken = cancellationToken },
            async (n, ct) =>
        {
            string? error;
            try
            {
                // Serialized once, so the signature is over exactly the bytes sent.
                var body = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new
                {
                    notificationId = n.Id, orderId = n.OrderId, recipient = n.Recipient,
                    channels = n.Channels.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                    @event = n.Event, status = n.Status, at = n.CreatedAt,
                }, System.Text.Json.JsonSerializerOptions.Web);
                using var request = new HttpRequestMessage(HttpMethod.Post, settings.WebhookUrl) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
                request.Headers.Add("Idempotency-Key", n.Id);
                if (!string.IsNullOrEmpty(settings.SigningSecret))
                {
                    request.Headers.TryAddWithoutValidation(NotificationOptions.SignatureHeader,
                        WebhookSignature.Sign(settings.SigningSecret, clock.WallNow.ToUnixTimeSeconds(), body));
                }
                using var response = await client.SendAsync(request, ct);
                error = response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode}";
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                error = ex.GetType().Name + ": " + ex.Message;
            }
            if (error is null)
            {
                delivered.Add(n);
            }
            else if (!ct.IsCancellationRequested)
            {
                await RetryLaterAsync(n, error, settings, CancellationToken.None);
            }
        });

    /// <summary>One statement for the whole batch, so a busy outbox costs a round trip per batch, not per notification.</summary>
    private async Task MarkDeliveredAsync(IReadOnlyCollection<Due> notifications, string? note, CancellationToken cancellationToken)
    {
        if (notifications.Count == 0)
        {
            return;
        }
        await using var connection = await database.OpenAsync(cancellationToken);
        var command = connection.Command("");
        var names = notifications.Select((n, i) =>
        {
            command.With($"id{i}", n.Id);
            return $"@id{i}";
        }).ToArray();
        command.CommandText = "UPDATE order_notifications SET attempts = attempts + 1, delivered_at = @now, last_error = @note " +
            $"WHERE notification_id IN ({string.Join(", ", names)})";
        await command.With("now", database.ToDb(clock.GetUtcNow())).With("note", note).ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// The ids of up to <c>@limit</c> rows due at <c>@now</c>, oldest first; on PostgreSQL rows another silo holds are skipped.
    /// </summary>
    private string DueIds => "SELECT notification_id FROM order_notifications " +
        "WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= @now ORDER BY next_attempt_at, notification_id LIMIT @limit" +
        (database.Provider == StorageProvider.Postgres ? " FOR UPDATE SKIP LOCKED" : "");

    private async Task<IReadOnlyList<Due>> ClaimAsync(DateTimeOffset now, NotificationOptions settings, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            $"UPDATE order_notifications SET next_attempt_at = @lease WHERE notification_id IN ({DueIds}) " +
            "RETURNING notification_id, order_id, recipient, channels, event, status, created_at, attempts")
            .With("lease", database.ToDb(now + settings.EffectiveLease())).With("now", database.ToDb(now)).With("limit", settings.BatchSize);
        var due = new List<Due>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            due.Add(new Due(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.GetString(5), TradeDatabase.FromDb(reader.GetValue(6)), reader.GetInt32(7)));
        }
        return due;
    }

    private async Task RetryLaterAsync(Due n, string error, NotificationOptions settings, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var attempts = n.Attempts + 1;
        var (backoff, giveUp) = settings.AfterFailure(attempts, n.CreatedAt, now);
        if (giveUp)
        {
            logger.LogError("Notification {NotificationId} of order {OrderId} failed {Attempts} times; giving up: {Error}", n.Id, n.OrderId, attempts, error);
        }
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.Command("UPDATE order_notifications SET attempts = @attempts, next_attempt_at = @next, failed_at = @failed, last_error = @error WHERE notification_id = @id")
            .With("attempts", attempts).With("next", database.ToDb(now + backoff)).With("failed", giveUp ? database.ToDb(now) : DBNull.Value)
            .With("error", error.Length > 500 ? error[..500] : error).With("id", n.Id)
            .ExecuteNonQueryAsync(cancellationToken);
    }
}
