using Orleans.Trade.Common;
using Orleans.Trade.Wallets;

namespace Orleans.Trade.Tests.Wallets;

/// <summary>R-DIS-4 on the pure seller books: a compensation paid from the deposit first, then the available balance, never the escrow.</summary>
public sealed class SellerBooksCompensationTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly MovableFxRates _rates = new();

    private static Money Usd(long minor) => new(minor, "USD");

    private static long Posted(SellerBooks books, string account) => books.Balance(account)?.Posted ?? 0;

    private static void AssertBalanced(SellerBooks books) =>
        Assert.All(books.TotalsByCurrency(), totals => Assert.Equal((0L, 0L), totals.Value));

    private static EscrowRelease Split(string orderId, long held, long commission) =>
        new(orderId, Usd(commission), Usd(0), Usd(0), null, Usd(held - commission));

    /// <summary>Order o1 (10,000) held in escrow; order o2 (10,000) released, its 9,200 net available unless <paramref name="mature"/> is false.</summary>
    private SellerBooks Books(bool mature = true)
    {
        var books = new SellerBooks(_rates);
        books.HoldInEscrow("o1", Usd(10_000));
        books.HoldInEscrow("o2", Usd(10_000));
        books.ReleaseEscrow(Split("o2", 10_000, 800), null, T0);
        if (mature)
        {
            books.Mature(T0.AddDays(7), TimeSpan.FromDays(7));
        }
        return books;
    }

    [Fact]
    public void A_compensation_is_paid_from_the_deposit_first_then_the_available_balance_and_leaves_the_escrow_as_it_is()
    {
        var books = Books();
        books.FundDeposit("d1", Usd(500));

        var (result, applied) = books.Compensate(new LedgerCompensation("o1", "c1", Usd(1_500)), settlementCurrency: null);

        Assert.Equal(LedgerCompensationStatus.Applied, result.Status);
        Assert.Equal(new CompensationFunding(Usd(500), Usd(1_000)), result.Funding);
        Assert.Equal(["o1:compensation:c1:deposit", "o1:compensation:c1:available"], applied.Select(t => t.TransferId));
        Assert.Equal(0, Posted(books, "seller:deposit:USD"));
        Assert.Equal(8_200, Posted(books, "seller:available:USD"));
        Assert.Equal(1_500, Posted(books, "psp:refunds:USD"));
        Assert.Equal(10_000, books.Balance("escrow:o1")!.CreditsPending);
        Assert.Equal(10_000, books.Order("o1")!.Held);
        Assert.Equal(0, books.Order("o2")!.RefundedAfterRelease);
        AssertBalanced(books);
        // The seller still gets the whole escrow at release: the compensation came from its own money.
        books.ReleaseEscrow(Split("o1", 10_000, 800), null, T0);
        Assert.Equal(9_200, Posted(books, "seller:pending:USD"));
        AssertBalanced(books);
    }

    [Fact]
    public void A_compensation_the_deposit_covers_takes_nothing_from_the_available_balance()
    {
        var books = Books();
        books.FundDeposit("d1", Usd(2_000));

        var (result, applied) = books.Compensate(new LedgerCompensation("o1", "c1", Usd(1_500)), null);

        Assert.Equal(new CompensationFunding(Usd(1_500), Usd(0)), result.Funding);
        Assert.Equal(["o1:compensation:c1:deposit"], applied.Select(t => t.TransferId));
        Assert.Equal(500, Posted(books, "seller:deposit:USD"));
        Assert.Equal(9_200, Posted(books, "seller:available:USD"));
    }

    [Fact]
    public void A_compensation_booked_again_books_nothing_and_answers_what_paid_it_even_after_the_balances_changed()
    {
        var books = Books();
        books.FundDeposit("d1", Usd(500));
        var first = books.Compensate(new LedgerCompensation("o1", "c1", Usd(1_500)), null);
        books.FundDeposit("d2", Usd(5_000)); // the same split now would take it all from the deposit

        var (again, applied) = books.Compensate(new LedgerCompensation("o1", "c1", Usd(1_500)), null);

        Assert.Equal(LedgerCompensationStatus.AlreadyApplied, again.Status);
        Assert.Empty(applied);
        Assert.Equal(first.Result.Funding, again.Funding);
        Assert.Equal(1_500, Posted(books, "psp:refunds:USD"));
        Assert.Equal(5_000, Posted(books, "seller:deposit:USD"));
        Assert.Equal(LedgerCompensationStatus.AlreadyApplied, books.QuoteCompensation(new LedgerCompensation("o1", "c1", Usd(1_500)), null).Status);

        // Restored from a snapshot the books know the transfers by fingerprint only: still a repeat, its split no longer known.
        var restored = SellerBooks.Restore(_rates, books.Snapshot());
        var (afterRestore, none) = restored.Compensate(new LedgerCompensation("o1", "c1", Usd(1_500)), null);
        Assert.Equal(LedgerCompensationStatus.AlreadyApplied, afterRestore.Status);
        Assert.Null(afterRestore.Funding);
        Assert.Empty(none);
        Assert.Equal(books.Accounts.ToDictionary(a => a.Key, a => a.Value), restored.Accounts.ToDictionary(a => a.Key, a => a.Value));
    }

    [Fact]
    public void A_compensation_the_deposit_and_available_balance_cannot_cover_is_refused_and_changes_nothing_and_pending_money_is_not_used()
    {
        var books = Books(mature: false); // o2's 9,200 still maturing in pending
        books.FundDeposit("d1", Usd(300));
        var before = books.Accounts.ToDictionary(a => a.Key, a => a.Value);
        var compensation = new LedgerCompensation("o1", "c1", Usd(1_000));

        var quote = books.QuoteCompensation(compensation, null);
        var (result, applied) = books.Compensate(compensation, null);

        Assert.Equal(LedgerCompensationStatus.InsufficientFunds, quote.Status);
        Assert.Equal(LedgerCompensationStatus.InsufficientFunds, result.Status);
        Assert.Equal((Usd(1_000), Usd(300), Usd(0)), (result.Charge, result.Deposit, result.Available));
        Assert.Empty(applied);
        Assert.Equal(before, books.Accounts.ToDictionary(a => a.Key, a => a.Value));
        Assert.Equal(9_200, books.Maturing["o2"].Net.AmountMinor);

        books.FundDeposit("d2", Usd(700));
        Assert.Equal(LedgerCompensationStatus.Applied, books.Compensate(compensation, null).Result.Status); // a refused id stays usable
        Assert.Equal(0, Posted(books, "seller:deposit:USD"));
        Assert.Equal(9_200, Posted(books, "seller:pending:USD"));
        AssertBalanced(books);
    }

    [Fact]
    public void A_quote_answers_what_the_compensation_would_and_changes_nothing()
    {
        var books = Books();
        books.FundDeposit("d1", Usd(500));
        var before = books.Accounts.ToDictionary(a => a.Key, a => a.Value);

        var quote = books.QuoteCompensation(new LedgerCompensation("o1", "c1", Usd(1_500)), null);

        Assert.Equal(LedgerCompensationStatus.Applied, quote.Status);
        Assert.Equal(new CompensationFunding(Usd(500), Usd(1_000)), quote.Funding);
        Assert.Equal(before, books.Accounts.ToDictionary(a => a.Key, a => a.Value));
        Assert.Equal(LedgerCompensationStatus.Applied, books.Compensate(new LedgerCompensation("o1", "c1", Usd(1_500)), null).Result.Status);
    }

    [Fact]
    public void A_compensation_is_charged_in_the_settlement_currency_at_the_current_rate_and_paid_to_the_buyer_in_the_order_currency()
    {
        var books = new SellerBooks(_rates);
        books.HoldInEscrow("o1", Usd(10_000));
        books.FundDeposit("d1", new Money(2_000, "EUR"));

        var (result, applied) = books.Compensate(new LedgerCompensation("o1", "c1", Usd(1_000)), "EUR");

        Assert.Equal(new CompensationFunding(new Money(500, "EUR"), new Money(0, "EUR")), result.Funding); // 10.00 USD × 0.5
        Assert.Equal(["o1:compensation:c1:deposit", "o1:compensation:c1"], applied.Select(t => t.TransferId));
        Assert.Equal(1_500, Posted(books, "seller:deposit:EUR"));
        Assert.Equal(1_000, Posted(books, "psp:refunds:USD"));
        AssertBalanced(books);
    }

    [Fact]
    public void A_compensation_of_an_order_the_books_do_not_hold_is_refused()
    {
        var books = Books();
        books.FundDeposit("d1", Usd(5_000));

        var (result, applied) = books.Compensate(new LedgerCompensation("unknown", "c1", Usd(1_000)), null);

        Assert.Equal(LedgerCompensationStatus.UnknownOrder, result.Status);
        Assert.Empty(applied);
        Assert.Equal(5_000, Posted(books, "seller:deposit:USD"));
    }

    [Fact]
    public void Books_rebuilt_from_their_transfers_keep_the_compensation_and_still_know_it_as_a_repeat()
    {
        var books = new SellerBooks(_rates);
        var log = new List<(Transfer, DateTimeOffset)>();
        void Keep(IEnumerable<Transfer> applied) => log.AddRange(applied.Select(t => (t, T0)));
        Keep(books.HoldInEscrow("o1", Usd(10_000)));
        Keep(books.FundDeposit("d1", Usd(700)).Applied);
        Keep(books.Compensate(new LedgerCompensation("o1", "c1", Usd(700)), null).Applied);
        Keep(books.Refund(new LedgerRefund("o1", "r1", Usd(1_000)), null).Applied);

        var rebuilt = new SellerBooks(_rates);
        foreach (var (t, at) in log)
        {
            rebuilt.Replay(t, at);
        }

        Assert.Equal(books.Accounts.ToDictionary(a => a.Key, a => a.Value), rebuilt.Accounts.ToDictionary(a => a.Key, a => a.Value));
        Assert.Equal(books.Order("o1"), rebuilt.Order("o1"));
        Assert.Equal(9_000, rebuilt.Order("o1")!.Held); // the refund came out of the escrow, the compensation did not
        var (again, _) = rebuilt.Compensate(new LedgerCompensation("o1", "c1", Usd(700)), null);
        Assert.Equal(LedgerCompensationStatus.AlreadyApplied, again.Status);
        Assert.Equal(new CompensationFunding(Usd(700), Usd(0)), again.Funding);
    }

    [Fact]
    public void A_seller_that_switched_settlement_currency_pays_a_compensation_from_the_deposit_it_kept_in_the_old_one()
    {
        // Charged in the new settlement currency alone, a seller whose deposit stayed in dollars was refused every compensation.
        var books = Books(mature: false);                                      // nothing available: o2's net still matures
        books.FundDeposit("d1", Usd(2_000));
        books.FundDeposit("d2", new Money(100, "EUR"));                        // a little in the new currency, not enough

        var (result, applied) = books.Compensate(new LedgerCompensation("o1", "c1", Usd(1_500)), "EUR");

        Assert.Equal(LedgerCompensationStatus.Applied, result.Status);
        Assert.Equal(new CompensationFunding(Usd(1_500), Usd(0)), result.Funding);
        Assert.Equal(["o1:compensation:c1:deposit"], applied.Select(t => t.TransferId));
        Assert.Equal(500, Posted(books, "seller:deposit:USD"));
        Assert.Equal(100, Posted(books, "seller:deposit:EUR"));
        Assert.Equal(1_500, Posted(books, "psp:refunds:USD"));
        Assert.Equal(LedgerCompensationStatus.AlreadyApplied, books.Compensate(new LedgerCompensation("o1", "c1", Usd(1_500)), "EUR").Result.Status);
        AssertBalanced(books);

        // Enough in the settlement currency: that pays, at the current rate, as before.
        books.FundDeposit("d3", new Money(5_000, "EUR"));
        var (second, legs) = books.Compensate(new LedgerCompensation("o1", "c2", Usd(1_000)), "EUR");
        Assert.Equal(new CompensationFunding(new Money(500, "EUR"), new Money(0, "EUR")), second.Funding);
        Assert.Equal(["o1:compensation:c2:deposit", "o1:compensation:c2"], legs.Select(t => t.TransferId));
        // Nowhere enough: refused with what the settlement currency holds.
        var refused = books.Compensate(new LedgerCompensation("o1", "c3", Usd(100_000)), "EUR").Result;
        Assert.Equal(LedgerCompensationStatus.InsufficientFunds, refused.Status);
        Assert.Equal(new Money(50_000, "EUR"), refused.Charge);
        AssertBalanced(books);
    }
}
