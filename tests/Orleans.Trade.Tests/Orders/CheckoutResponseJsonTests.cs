using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Trade.Api;
using Orleans.Trade.Api.Orders;
using Orleans.Trade.Api.Payments;
using Orleans.Trade.Common;
using Orleans.Trade.Inventory;
using Orleans.Trade.Orders;
using Orleans.Trade.Payments;
using Orleans.Trade.Risk;

namespace Orleans.Trade.Tests.Orders;

/// <summary>
/// A placed checkout's 201 is written by source-generated code (CheckoutCreated), not through the API's JSON options: it must be
/// the same bytes those options write, for every field of the response. Adding a field to the response types changes both the
/// samples (their constructors) and the expected JSON, so a field or an enum the generated writer misses fails here.
/// </summary>
public sealed class CheckoutResponseJsonTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 5, 21, 30, 15, 123, TimeSpan.Zero);

    private static readonly JsonSerializerOptions ApiOptions = new ServiceCollection()
        .AddTradeApi(new ConfigurationBuilder().Build())
        .BuildServiceProvider()
        .GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;

    public static TheoryData<string> Samples => new() { "every field", "optional fields empty", "paid inline" };

    [Theory]
    [MemberData(nameof(Samples))]
    public async Task The_created_checkout_is_the_json_the_api_options_write(string sample)
    {
        var response = Sample(sample);
        var http = new DefaultHttpContext();
        var body = new MemoryStream();
        http.Response.Body = body;

        await new CheckoutCreated("/api/v1/orders/ord-1", response).ExecuteAsync(http);

        Assert.Equal(StatusCodes.Status201Created, http.Response.StatusCode);
        Assert.Equal("/api/v1/orders/ord-1", http.Response.Headers.Location.ToString());
        Assert.Equal("application/json; charset=utf-8", http.Response.ContentType);
        var expected = JsonSerializer.Serialize(response, ApiOptions);
        Assert.Equal(expected, Encoding.UTF8.GetString(body.ToArray()));
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void The_load_generator_reads_the_first_order_and_captured_payments_as_a_parsed_document_would(string sample)
    {
        foreach (var captured in new[] { false, true })
        {
            var response = Sample(sample);
            if (captured && response.Payments is { Count: > 0 } payments)
            {
                response = response with { Payments = [.. payments, payments[0] with { PaymentId = "pay-2", Status = PaymentStatus.Captured }] };
            }
            var json = JsonSerializer.Serialize(response, ApiOptions);
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            var expected = (root.GetProperty("orders")[0].GetProperty("orderId").GetString()!,
                root.TryGetProperty("payments", out var p) && p.ValueKind == JsonValueKind.Array && p.EnumerateArray().Any(x => x.GetProperty("status").ValueEquals("captured")));

            Assert.Equal(expected, Orleans.Trade.Benchmarks.Load.CheckoutAnswer.Read(json, readPayments: true));
            Assert.Equal(expected.Item1, Orleans.Trade.Benchmarks.Load.CheckoutAnswer.Read(json).OrderId);
        }
    }

    [Theory]
    [InlineData("""{"checkoutId":"c","orders":[{"lines":[{"orderId":"inner"}],"orderId":"o-1"},{"orderId":"o-2"}],"payments":[{"status":"authorized"},null,{"status":"captured"}]}""", "o-1", true)]
    [InlineData("""{"payments":null,"orders":[{"orderId":"o-1","status":"captured"}],"later":{"x":[1,2]}}""", "o-1", false)]
    public void The_load_generator_reads_ids_and_statuses_wherever_they_stand(string json, string orderId, bool captured) =>
        Assert.Equal((orderId, captured), Orleans.Trade.Benchmarks.Load.CheckoutAnswer.Read(json, readPayments: true));

    [Theory]
    [InlineData("""{"checkoutId":"c"}""")]
    [InlineData("""{"orders":[]}""")]
    [InlineData("""{"orders":[{"status":"x"}]}""")]
    public void An_answer_without_an_order_id_is_an_error_not_a_guess(string json) =>
        Assert.ThrowsAny<JsonException>(() => Orleans.Trade.Benchmarks.Load.CheckoutAnswer.Read(json));

    [Fact]
    public void The_samples_carry_camel_case_enum_names_and_escaped_text()
    {
        // Guards the comparison above: the API writes enums as camelCase names and text with ASP.NET Core's relaxed escaping
        // (accents as they are, quotes escaped), so a writer that wrote numbers or escaped every non-ASCII character could not
        // match it by accident.
        var json = JsonSerializer.Serialize(Sample("paid inline"), ApiOptions);
        Assert.Contains("\"status\":\"awaitingPayment\"", json);
        Assert.Contains("\"method\":\"card\"", json);
        Assert.Contains("\"decision\":\"review\"", json);
        Assert.Contains("Tasse à café \\\"Lyon\\\"", json);
    }

    private static CheckoutResponse Sample(string name)
    {
        var usd = (long minor) => new Money(minor, "USD");
        var address = new ShippingAddress("Zoë Émile", "1 Rue de l'Église", name == "optional fields empty" ? null : "Bât. B", "Lyon",
            name == "optional fields empty" ? null : "ARA", "69001", "FR", "+33123456789");
        var allocation = new[]
        {
            new StockAllocationPart("wh-lyon", 2, new DateOnly(2026, 12, 7)),
            new StockAllocationPart(null, 1, null),
        };
        var line = new OrderResponse(
            "ord-1", "chk-1", "buyer-1", "seller-1",
            name == "paid inline" ? OrderStatus.AwaitingPayment : OrderStatus.AwaitingShipment,
            [new OrderLineResponse("sku-1", "Tasse à café \"Lyon\"", 3, usd(1299), usd(3897), allocation)],
            new OrderTotals(usd(3897), new Money(3620, "EUR"), 0.9289m, At, name == "optional fields empty" ? null : usd(312),
                name == "optional fields empty" ? null : "FR"),
            address,
            name == "every field" ? new Shipment("colissimo", "6A123", At) : null,
            new OrderDeadlines(At.AddHours(1), name == "optional fields empty" ? null : At.AddDays(2), null),
            Accepted: name == "every field",
            Late: name == "every field",
            ReviewReason: name == "every field" ? "amount above review threshold" : null,
            name == "every field" ? OrderSource.Import : OrderSource.Checkout,
            name == "every field" ? new ExternalOrderRef("shopify", "ext-9", true) : null,
            At, At.AddSeconds(1),
            PaidBy: name == "every field" ? "pay-0" : null,
            Refunded: name == "every field" ? usd(100) : null);
        if (name != "paid inline")
        {
            return new CheckoutResponse("chk-1", [line, line with { OrderId = "ord-2", SellerId = "seller-2" }]);
        }
        var payment = new PaymentResponse("pay-1", "ord-1", "buyer-1", usd(3897), PaymentMethodType.Card, "4242", PaymentStatus.Authorized,
            "sandbox", null, "Held for review", null, null, At.AddDays(1),
            [new Instalment(1, At.AddDays(30), usd(1949)), new Instalment(2, At.AddDays(60), usd(1948))],
            usd(0),
            [new PaymentRefundView("ref-1", usd(100), RefundStatus.Pending, "damaged", At, null)],
            [new PaymentHistoryEntry(At, PaymentStatus.Pending, "created", null), new PaymentHistoryEntry(At, PaymentStatus.Authorized, "authorized", "auth 123")],
            At, At.AddSeconds(2),
            new RiskScore(71, 0.7123456789, RiskDecision.Review, [new RiskReason("device_distinct_cards_24h", "distinct cards on the device", 3f, 0.25f)], "risk-2026-12"),
            HeldForReview: true);
        return new CheckoutResponse("chk-1", [line], [payment]);
    }
}
