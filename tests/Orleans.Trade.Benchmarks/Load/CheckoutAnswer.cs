using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Orleans.Trade.Benchmarks.Load;

/// <summary>
/// What the load generator reads from a checkout's 201: the first order's id and whether a payment in it was captured. A
/// forward-only scan of the body that stops once it has what it was asked for (the order id comes first), where parsing
/// each 1-2 KB answer into a document cost the generator about a seventh of its CPU, on the cores the silo and PostgreSQL
/// need. The checker reads every order by the ids found here, so a wrong id fails the run.
/// </summary>
public static class CheckoutAnswer
{
    private static readonly byte[] Orders = "orders"u8.ToArray();
    private static readonly byte[] OrderId = "orderId"u8.ToArray();
    private static readonly byte[] Payments = "payments"u8.ToArray();
    private static readonly byte[] Status = "status"u8.ToArray();
    private static readonly byte[] Captured = "captured"u8.ToArray();

    /// <summary>The first order's id; with <paramref name="readPayments"/>, also whether any payment's status is <c>captured</c>.</summary>
    public static (string OrderId, bool Captured) Read(string body, bool readPayments = false)
    {
        var rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(body.Length));
        try
        {
            var length = Encoding.UTF8.GetBytes(body, rented);
            return Read(rented.AsSpan(0, length), readPayments);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public static (string OrderId, bool Captured) Read(ReadOnlySpan<byte> utf8, bool readPayments = false)
    {
        var reader = new Utf8JsonReader(utf8);
        Expect(ref reader, JsonTokenType.StartObject);
        string? orderId = null;
        var captured = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (orderId is null && reader.ValueTextEquals(Orders))
            {
                orderId = FirstOrderId(ref reader);
            }
            else if (readPayments && reader.ValueTextEquals(Payments))
            {
                captured = AnyCaptured(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
            if (orderId is not null && !readPayments)
            {
                break;
            }
        }
        return (orderId ?? throw new JsonException("The checkout's answer has no orders[0].orderId."), captured);
    }

    private static string FirstOrderId(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.StartArray);
        Expect(ref reader, JsonTokenType.StartObject);
        string? orderId = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isId = reader.ValueTextEquals(OrderId);
            reader.Read();
            if (isId && reader.TokenType == JsonTokenType.String)
            {
                orderId = reader.GetString();
            }
            else
            {
                reader.Skip();
            }
        }
        // The rest of the array: later orders are not read.
        while (reader.TokenType != JsonTokenType.EndArray)
        {
            if (!reader.Read())
            {
                throw new JsonException("The checkout's orders array does not end.");
            }
            reader.Skip();
        }
        return orderId ?? throw new JsonException("The checkout's first order has no orderId.");
    }

    private static bool AnyCaptured(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return false;
        }
        var captured = false;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isStatus = reader.ValueTextEquals(Status);
                reader.Read();
                if (isStatus && reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(Captured))
                {
                    captured = true;
                }
                reader.Skip();
            }
        }
        return captured;
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type)
    {
        if (!reader.Read() || reader.TokenType != type)
        {
            throw new JsonException($"The checkout's answer has {reader.TokenType} where {type} belongs.");
        }
    }
}
