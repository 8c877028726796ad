using Orleans.Trade.Common;

namespace Orleans.Trade.Payments.Sandbox;

/// <summary>
/// The webhook signature of the sandbox PSP: <see cref="WebhookSignature"/> in header <c>Sandbox-Signature</c>.
/// </summary>
public static class SandboxSignature
{
    public const string HeaderName = "Sandbox-Signature";
    public static readonly TimeSpan Tolerance = WebhookSignature.Tolerance;

    public static string Sign(string secret, long unixSeconds, ReadOnlySpan<byte> body) => WebhookSignature.Sign(secret, unixSeconds, body);

    /// <summary>Null when the header is genuine for <paramref name="body"/> and recent; otherwise why it is not.</summary>
    public static string? Verify(string secret, string? header, ReadOnlySpan<byte> body, DateTimeOffset now) =>
        WebhookSignature.Verify(HeaderName, secret, header, body, now);
}
