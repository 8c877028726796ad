using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Api.Orders;

/// <summary>
/// The request hash of a checkout: SHA-256 of its normalised command and payment request as JSON with the serializer's default
/// options. A checkout grain keeps the hash of the request it answered and compares a retry's against it (a reused
/// Idempotency-Key with another body is refused), so these bytes may never change: stored hashes must stay valid. Written by
/// source-generated code from named records shaped as the anonymous objects hashed before them (tests compare the two).
/// </summary>
public static class CheckoutHash
{
    /// <summary>Each thread's buffer and writer for the JSON being hashed (a checkout's is under 1 KB); large ones are not kept.</summary>
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_json;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    private const int MaxKeptBuffer = 64 * 1024;

    public static string Of(CheckoutCommand command, Payments.PaymentRequest? payment)
    {
        var hashed = new HashedCheckout(
            new HashedCommand(command.BuyerId, command.Currency, command.ShipTo, command.Items, command.CouponCode, command.RequestHash, command.Actor,
                command.Attribution),
            payment);
        var json = t_json ??= new ArrayBufferWriter<byte>(1024);
        json.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(json);
        writer.Reset(json);
        JsonSerializer.Serialize(writer, hashed, CheckoutHashJson.Default.HashedCheckout);
        writer.Flush();
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(json.WrittenSpan, digest);
        if (json.Capacity > MaxKeptBuffer)
        {
            t_json = null;
            t_writer = null;
        }
        return Convert.ToHexStringLower(digest);
    }

    /// <summary>The command as hashed; an attribution is written only when there is one, so the hashes of checkouts without one are as before.</summary>
    internal sealed record HashedCommand(
        string BuyerId, string Currency, ShippingAddress ShipTo, IReadOnlyList<CartLine> Items, string? CouponCode, string RequestHash, string Actor,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] OrderAttribution? Attribution = null);

    internal sealed record HashedCheckout([property: JsonPropertyName("command")] HashedCommand Command, Payments.PaymentRequest? Payment);
}

[JsonSourceGenerationOptions]
[JsonSerializable(typeof(CheckoutHash.HashedCheckout))]
internal sealed partial class CheckoutHashJson : JsonSerializerContext;
