using System.Security.Cryptography;
using System.Text.Json;
using Orleans.Trade.Api.Orders;
using Orleans.Trade.Api.Payments;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Tests.Orders;

/// <summary>
/// Checkout grains keep the request hash of the checkout they answered, and a retry is compared against it: the hash of a body
/// must never change. These tests pin it to the anonymous objects it was computed from before (the reference below) and to
/// one stored value.
/// </summary>
public sealed class CheckoutHashTests
{
    private static readonly ShippingAddress Address = new("Zoë <Émile> & Co", "1 Rue de l'Église", null, "Lyon", "ARA", "69001", "FR", "+33 1 23 45 67 89");

    public static TheoryData<string> Cases => new() { "one line", "lines, coupon", "card payment", "wallet payment, no region" };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_hash_is_the_one_checkouts_were_stored_with(string name)
    {
        var (command, payment) = Sample(name);

        Assert.Equal(Reference(command, payment), CheckoutHash.Of(command, payment));
    }

    [Fact]
    public void A_body_hashed_after_a_larger_one_gets_its_own_hash()
    {
        // The JSON is written into a buffer each thread keeps (dropped when it grew past 64 KB): nothing of one body may reach
        // the next one's hash.
        var (small, payment) = Sample("card payment");
        var large = small with { Items = [.. Enumerable.Range(0, 3000).Select(i => new CartLine($"sku-{i:D6}", i + 1))] };

        Assert.Equal(Reference(large, payment), CheckoutHash.Of(large, payment));
        Assert.Equal(Reference(small, payment), CheckoutHash.Of(small, payment));
        Assert.Equal(Reference(small, null), CheckoutHash.Of(small, null));
        Assert.Equal(Reference(large, null), CheckoutHash.Of(large, null));
    }

    [Fact]
    public void A_known_checkout_keeps_its_stored_hash()
    {
        var (command, payment) = Sample("card payment");

        Assert.Equal(KnownHash, CheckoutHash.Of(command, payment));
    }

    [Fact]
    public void Every_field_of_the_body_changes_the_hash()
    {
        var (command, payment) = Sample("card payment");
        var hash = CheckoutHash.Of(command, payment);

        Assert.NotEqual(hash, CheckoutHash.Of(command with { BuyerId = "buyer-2" }, payment));
        Assert.NotEqual(hash, CheckoutHash.Of(command with { Currency = "GBP" }, payment));
        Assert.NotEqual(hash, CheckoutHash.Of(command with { ShipTo = command.ShipTo with { PostalCode = "69002" } }, payment));
        Assert.NotEqual(hash, CheckoutHash.Of(command with { Items = [new CartLine("sku-1", 3)] }, payment));
        Assert.NotEqual(hash, CheckoutHash.Of(command with { CouponCode = "OTHER" }, payment));
        Assert.NotEqual(hash, CheckoutHash.Of(command with { Actor = "buyer:buyer-2" }, payment));
        Assert.NotEqual(hash, CheckoutHash.Of(command, payment! with { CardToken = "tok_other" }));
        Assert.NotEqual(hash, CheckoutHash.Of(command, null));
    }

    // Computed by Reference (the formula before CheckoutHash) for the "card payment" sample.
    private const string KnownHash = "df4d56bccd8b73d779fe7a0f212770fcf993dd550adf5bbdb0610c962fd00a0f";

    /// <summary>How the hash was computed before CheckoutHash: anonymous objects through the serializer's defaults.</summary>
    private static string Reference(CheckoutCommand command, PaymentRequest? payment)
    {
        var hashed = new { command.BuyerId, command.Currency, command.ShipTo, command.Items, command.CouponCode, command.RequestHash, command.Actor };
        return Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(new { command = hashed, Payment = payment })));
    }

    private static (CheckoutCommand Command, PaymentRequest? Payment) Sample(string name) => name switch
    {
        "one line" => (new CheckoutCommand("buyer-1", "USD", Address, [new CartLine("sku-1", 1)], null, "", "buyer:buyer-1"), null),
        "lines, coupon" => (new CheckoutCommand("buyer-1", "USD", Address, [new CartLine("sku-1", 2), new CartLine("sku-2\u00e9", 1)],
            "SALE-10", "", "admin:key-1"), null),
        "card payment" => (new CheckoutCommand("buyer-1", "EUR", Address, [new CartLine("sku-1", 1)], "X\"Y", "", "buyer:buyer-1"),
            new PaymentRequest("card", "tok_4242", null, 3)),
        _ => (new CheckoutCommand("buyer-1", "JPY", Address with { Region = null, Line2 = "Bât. B" }, [new CartLine("sku-9", 7)], null, "",
            "buyer:buyer-1"), new PaymentRequest("wallet", null, "wallet-acct-1", null)),
    };
}
