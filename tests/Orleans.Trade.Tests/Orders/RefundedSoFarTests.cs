using Orleans.Trade.Common;
using Orleans.Trade.Orders;
using Orleans.Trade.Payments;

namespace Orleans.Trade.Tests.Orders;

/// <summary>
/// What an order counts as refunded (pure logic): it decides what the escrow release splits and what is left to refund, so it
/// must agree with the seller's ledger, which books a refund before the payment provider hears of it.
/// </summary>
public sealed class RefundedSoFarTests
{
    private static OrderRefundRecord Refund(string id, long seller, long buyer, RefundStatus status, bool booked) => new()
    {
        Key = "key-" + id,
        RequestHash = "hash-" + id,
        View = new OrderRefundView(id, new Money(seller, "JPY"), new Money(buyer, "USD"), status, null, "seller:s-1",
            new DateTimeOffset(2026, 12, 6, 7, 0, 0, TimeSpan.Zero)),
        Booked = booked,
    };

    [Fact]
    public void A_refund_the_provider_refused_counts_once_the_ledger_booked_it()
    {
        var state = new OrderState
        {
            Refunds =
            [
                Refund("r-1", 100, 66, RefundStatus.Succeeded, booked: true),
                Refund("r-2", 40, 26, RefundStatus.Pending, booked: true),
                // Booked (out of escrow), then refused by the provider: a service ticket pays it back by hand.
                Refund("r-3", 30, 19, RefundStatus.Failed, booked: true),
                // Refused before the ledger booked it: nothing moved anywhere.
                Refund("r-4", 500, 330, RefundStatus.Failed, booked: false),
            ],
        };

        Assert.Equal((170, 111), OrderPlacing.RefundedSoFar(state));
    }

    [Fact]
    public void Nothing_refunded_counts_nothing()
    {
        Assert.Equal((0, 0), OrderPlacing.RefundedSoFar(new OrderState()));
    }
}
