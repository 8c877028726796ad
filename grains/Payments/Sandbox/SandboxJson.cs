using System.Text.Json;
using System.Text.Json.Serialization;
using Orleans.Trade.Common;

namespace Orleans.Trade.Payments.Sandbox;

/// <summary>The sandbox's wire format: camelCase JSON, enums as camelCase strings (as the public API).</summary>
public static class SandboxJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}

/// <summary>The body of a sandbox webhook. <see cref="Refund"/> is set for refund events.</summary>
public sealed record SandboxWebhookEvent(string EventId, string Type, DateTimeOffset CreatedAt, SandboxPaymentView Payment, SandboxRefundView? Refund);
