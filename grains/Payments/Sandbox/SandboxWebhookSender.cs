using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Orleans.Trade.Payments.Sandbox;

/// <summary>The silo's own HTTP base address (e.g. <c>http://127.0.0.1:5080/</c>), known once the server listens; the host supplies it.</summary>
public interface ISelfHttpAddress
{
    Uri BaseUrl { get; }
}

/// <summary>POSTs one signed sandbox event to the configured webhook URL; true on a 2xx answer.</summary>
public sealed class SandboxWebhookSender(HttpClient http, IOptions<SandboxPspOptions> options, ISelfHttpAddress self, ILogger<SandboxWebhookSender> logger)
{
    public const string DefaultWebhookPath = "api/v1/payments/webhooks/sandbox";

    public Uri WebhookUrl => options.Value.WebhookUrl ?? new Uri(self.BaseUrl, DefaultWebhookPath);

    public async Task<bool> SendAsync(string eventId, string body)
    {
        var settings = options.Value;
        var bytes = Encoding.UTF8.GetBytes(body);
        // Signed with real time, not business time: the receiver checks it against its own system clock.
        var signature = SandboxSignature.Sign(settings.WebhookSecret, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), bytes);
        try
        {
            using var timeout = new CancellationTokenSource(settings.WebhookTimeout);
            using var request = new HttpRequestMessage(HttpMethod.Post, WebhookUrl) { Content = new ByteArrayContent(bytes) };
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            request.Headers.TryAddWithoutValidation(SandboxSignature.HeaderName, signature);
            request.Headers.TryAddWithoutValidation("Idempotency-Key", eventId);
            using var response = await http.SendAsync(request, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                logger.LogInformation("Sandbox webhook {EventId} answered {Status}; will retry", eventId, (int)response.StatusCode);
            }
            return response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            logger.LogInformation("Sandbox webhook {EventId} failed ({Error}); will retry", eventId, ex.Message);
            return false;
        }
    }
}
