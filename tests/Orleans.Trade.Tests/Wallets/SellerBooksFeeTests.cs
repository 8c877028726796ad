using Orleans.Trade.Common;
using Orleans.Trade.Wallets;

namespace Orleans.Trade.Tests.Wallets;

/// <summary>R-DIS-6 on the pure seller books: an inspection's fee charged to the seller (deposit first) or kept from the buyer's refund.</summary>
public sealed class SellerBooksFeeTests
{
    private readonly MovableFxRates _rates = new();

    private static Money Usd(long minor) => new(minor, "USD");

    private static long Posted(SellerBooks books, string account) => books.Balance(account)?.Posted ?? 0;

    private static void AssertBalanced(SellerBooks books) =>
        Assert.All(books.TotalsByCurrency(), totals => Assert.Equal((0L, 0L), totals.Value));

    [Fact]
    public void A_fee_charged_to_the_seller_comes_from_the_deposit_first_leaves_the_escrow_as_it_is_and_is_booked_once()
    {
        var books = new SellerBooks(_rates);
        books.HoldInEscrow("o1", Usd(10_000));
        books.FundDeposit("d1", Usd(1_000));
        var fee = new LedgerFee("o1", "i1", Usd(1_500), LedgerFeePayer.Seller);

        Assert.Equal(LedgerCompensationStatus.InsufficientFunds, books.QuoteFee(fee, null).Status);
        var (refused, none) = books.ChargeFee(fee, null);
        Assert.Equal(LedgerCompensationStatus.InsufficientFunds, refused.Status);
        Assert.Empty(none);
        Assert.Equal(1_000, Posted(books, "seller:deposit:USD"));

        books.FundDeposit("d2", Usd(600));
        var (result, applied) = books.ChargeFee(fee, null);
        var (again, repeated) = books.ChargeFee(fee, null);

        Assert.Equal(LedgerCompensationStatus.Applied, result.Status);
        Assert.Equal(new CompensationFunding(Usd(1_500), Usd(0)), result.Funding);
        Assert.Equal(["o1:fee:i1:deposit"], applied.Select(t => t.TransferId));
        Assert.Equal(LedgerCompensationStatus.AlreadyApplied, again.Status);
        Assert.Empty(repeated);
        Assert.Equal(100, Posted(books, "seller:deposit:USD"));
        Assert.Equal(1_500, Posted(books, "platform:fees:USD"));
        Assert.Equal(10_000, books.Balance("escrow:o1")!.CreditsPending);
        AssertBalanced(books);
    }

    [Fact]
    public void A_fee_kept_from_the_buyers_refund_goes_to_the_platform_out_of_what_the_escrow_gave_back_and_is_booked_once()
    {
        var books = new SellerBooks(_rates);
        books.HoldInEscrow("o1", Usd(10_000));
        books.Refund(new LedgerRefund("o1", "r1", Usd(800)), null);
        var fee = new LedgerFee("o1", "i1", Usd(300), LedgerFeePayer.BuyerRefund);

        var (result, applied) = books.ChargeFee(fee, null);
        var (again, repeated) = books.ChargeFee(fee, null);

        Assert.Equal(LedgerCompensationStatus.Applied, result.Status);
        Assert.Equal(["o1:fee:i1:refund"], applied.Select(t => t.TransferId));
        Assert.Equal(LedgerCompensationStatus.AlreadyApplied, again.Status);
        Assert.Empty(repeated);
        Assert.Equal(300, Posted(books, "platform:fees:USD"));
        Assert.Equal(0, Posted(books, "seller:deposit:USD"));
        Assert.Equal(9_200, books.Order("o1")!.Held);
        AssertBalanced(books);
        Assert.Equal(LedgerCompensationStatus.UnknownOrder, books.ChargeFee(fee with { OrderId = "o2" }, null).Result.Status);
    }
}
