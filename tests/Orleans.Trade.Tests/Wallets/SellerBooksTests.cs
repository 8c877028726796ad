using Orleans.Trade.Common;
using Orleans.Trade.Orders;
using Orleans.Trade.Wallets;

namespace Orleans.Trade.Tests.Wallets;

/// <summary>Exchange rates a test can move: units of each currency per US dollar.</summary>
public sealed class MovableFxRates : IFxRates
{
    public Dictionary<string, decimal> UnitsPerUsd { get; } = new(StringComparer.Ordinal) { ["USD"] = 1m, ["EUR"] = 0.5m, ["JPY"] = 150m };

    public bool TryGetRate(string from, string to, out decimal rate, out DateTimeOffset asOf) =>
        new ConfiguredFxRates(UnitsPerUsd, DateTimeOffset.UnixEpoch).TryGetRate(from, to, out rate, out asOf);
}

/// <summary>R-SET-1..3 on the pure seller books: refunds before and after release, conversion, deposits, refusals.</summary>
public sealed class SellerBooksTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly MovableFxRates _rates = new();

    private static Money Usd(long minor) => new(minor, "USD");

    private static EscrowRelease Split(string orderId, long held, long commission, string currency = "USD") =>
        new(orderId, new Money(commission, currency), new Money(0, currency), new Money(0, currency), null, new Money(held - commission, currency));

    private static long Posted(SellerBooks books, string account) => books.Balance(account)?.Posted ?? 0;

    private static void AssertBalanced(SellerBooks books) =>
        Assert.All(books.TotalsByCurrency(), totals => Assert.Equal((0L, 0L), totals.Value));

    [Fact]
    public void A_refund_before_release_reduces_the_escrow_and_the_release_splits_what_is_left()
    {
        var books = new SellerBooks(_rates);
        books.HoldInEscrow("o1", Usd(10_000));

        var (result, applied) = books.Refund(new LedgerRefund("o1", "r1", Usd(3_000)), settlementCurrency: null);

        Assert.Equal(LedgerRefundResult.Applied, result);
        Assert.Equal(["o1:refund:r1:void", "o1:refund:r1:escrow"], applied.Select(t => t.TransferId));
        Assert.Equal(7_000, books.Order("o1")!.Held);
        Assert.Equal(7_000, books.Balance("escrow:o1")!.CreditsPending);
        Assert.Throws<ArgumentException>(() => books.ReleaseEscrow(Split("o1", 10_000, 800), null, T0)); // must split what is held now
        Assert.Equal(7_000, books.Order("o1")!.Held);

        books.ReleaseEscrow(Split("o1", 7_000, 560), null, T0);

        Assert.Equal(560, Posted(books, "platform:commission:USD"));
        Assert.Equal(6_440, Posted(books, "seller:pending:USD"));
        Assert.Equal(-7_000, Posted(books, "psp:clearing:USD"));
        Assert.Equal(0, books.Balance("escrow:o1")!.CreditsPending);
        Assert.Equal(7_000, books.Order("o1")!.Refundable);
        AssertBalanced(books);
    }

    [Fact]
    public void An_order_currency_with_no_rate_to_the_settlement_currency_settles_in_its_own_instead_of_failing_every_release()
    {
        var books = new SellerBooks(_rates); // no NZD rate: the seller's EUR setting was checked against the dollar only
        books.HoldInEscrow("o1", new Money(10_000, "NZD"));

        books.ReleaseEscrow(Split("o1", 10_000, 800, "NZD"), settlementCurrency: "EUR", T0);

        Assert.Equal(9_200, Posted(books, "seller:pending:NZD"));
        Assert.Equal(0, Posted(books, "seller:pending:EUR"));
        Assert.Equal("NZD", books.Order("o1")!.SettledCurrency);
        AssertBalanced(books);
        // A refund after release comes out of what the seller was paid, in that currency (less the 8% commission given back).
        books.Mature(T0.AddDays(31), TimeSpan.FromDays(30));
        Assert.Equal(LedgerRefundResult.Applied, books.Refund(new LedgerRefund("o1", "r1", new Money(1_000, "NZD")), "EUR").Result);
        Assert.Equal(8_280, Posted(books, "seller:available:NZD"));
        AssertBalanced(books);
    }

    [Fact]
    public void Refunding_everything_before_release_voids_the_escrow_and_leaves_nothing_to_release()
    {
        var books = new SellerBooks(_rates);
        books.HoldInEscrow("o1", Usd(5_000));
        books.Refund(new LedgerRefund("o1", "r1", Usd(2_000)), null);

        var (result, applied) = books.Refund(new LedgerRefund("o1", "r2", Usd(3_000)), null);

        Assert.Equal(LedgerRefundResult.Applied, result);
        Assert.Equal(["o1:refund:r2:void"], applied.Select(t => t.TransferId));
        Assert.Equal(0, books.Order("o1")!.Refundable);
        Assert.Equal(LedgerRefundResult.ExceedsPaid, books.Refund(new LedgerRefund("o1", "r3", Usd(1)), null).Result);
        Assert.Empty(books.ReleaseEscrow(Split("o1", 0, 0), null, T0));                          // completing it moves nothing
        Assert.Throws<InvalidOperationException>(() => books.ReleaseEscrow(Split("o1", 5_000, 400), null, T0));
        Assert.Empty(books.VoidEscrow("o1"));
        Assert.Equal(0, Posted(books, "psp:clearing:USD"));
        AssertBalanced(books);
    }

    [Fact]
    public void A_refund_after_release_gives_back_the_commission_and_charges_the_rest_to_the_available_balance_then_the_deposit()
    {
        var books = new SellerBooks(_rates);
        books.HoldInEscrow("o1", Usd(10_000));
        books.ReleaseEscrow(Split("o1", 10_000, 800), null, T0);
        books.Mature(T0.AddDays(7), TimeSpan.FromDays(7));
        books.Withdraw("w1", Usd(1_000));
        books.FundDeposit("d1", Usd(2_000));
        Assert.Equal(8_200, Posted(books, "seller:available:USD"));

        Assert.Equal(LedgerRefundResult.ExceedsPaid, books.Refund(new LedgerRefund("o1", "too-much", Usd(10_001)), null).Result);
        var (result, applied) = books.Refund(new LedgerRefund("o1", "r1", Usd(10_000)), null);

        Assert.Equal(LedgerRefundResult.Applied, result);
        Assert.Equal(["o1:refund:r1:commission", "o1:refund:r1:available", "o1:refund:r1:deposit"], applied.Select(t => t.TransferId));
        Assert.Equal(0, Posted(books, "platform:commission:USD"));   // the sale is undone: the platform gives its commission back
        Assert.Equal(0, Posted(books, "seller:available:USD"));      // and the seller gives back the 9,200 it was paid
        Assert.Equal(1_000, Posted(books, "seller:deposit:USD"));
        Assert.Equal(10_000, Posted(books, "psp:refunds:USD"));
        Assert.Equal(LedgerRefundResult.AlreadyApplied, books.Refund(new LedgerRefund("o1", "r1", Usd(10_000)), null).Result);
        Assert.Equal(LedgerRefundResult.ExceedsPaid, books.Refund(new LedgerRefund("o1", "r2", Usd(1)), null).Result);
        AssertBalanced(books);
    }

    [Fact]
    public void A_refund_the_seller_cannot_cover_is_refused_and_changes_nothing()
    {
        var books = new SellerBooks(_rates);
        books.HoldInEscrow("o1", Usd(10_000));
        // 8,200 still maturing, not yet available; the logistics fee stays with the platform, so a refund can charge the seller
        // more than the order's own net.
        books.ReleaseEscrow(new EscrowRelease("o1", Usd(800), Usd(1_000), Usd(0), null, Usd(8_200)), null, T0);
        books.FundDeposit("d1", Usd(500));
        var before = books.Accounts.ToDictionary(a => a.Key, a => a.Value);

        var (result, applied) = books.Refund(new LedgerRefund("o1", "r1", Usd(9_457)), null); // 9,457 less 756 commission: 8,701

        Assert.Equal(LedgerRefundResult.InsufficientFunds, result);
        Assert.Empty(applied);
        Assert.Equal(before, books.Accounts.ToDictionary(a => a.Key, a => a.Value));
        Assert.Equal(LedgerRefundResult.Applied, books.Refund(new LedgerRefund("o1", "r1", Usd(9_456)), null).Result); // refused ids stay usable
        Assert.Equal(0, Posted(books, "seller:pending:USD") + Posted(books, "seller:deposit:USD"));
    }

    [Fact]
    public void A_refund_soon_after_release_is_paid_first_from_the_orders_own_net_still_maturing()
    {
        var books = new SellerBooks(_rates);
        var log = new List<(Transfer, DateTimeOffset)>();
        void Keep(IEnumerable<Transfer> applied, DateTimeOffset at) => log.AddRange(applied.Select(t => (t, at)));
        Keep(books.HoldInEscrow("o0", Usd(2_000)), T0.AddDays(-10));
        Keep(books.ReleaseEscrow(Split("o0", 2_000, 160), null, T0.AddDays(-10)), T0.AddDays(-10));
        Keep(books.Mature(T0, TimeSpan.FromDays(7)), T0); // o0's 1,840 available
        Keep(books.HoldInEscrow("o1", Usd(10_000)), T0);
        Keep(books.HoldInEscrow("o2", Usd(5_000)), T0);
        Keep(books.ReleaseEscrow(new EscrowRelease("o1", Usd(800), Usd(500), Usd(0), null, Usd(8_700)), null, T0), T0); // 8,700 maturing
        Keep(books.ReleaseEscrow(Split("o2", 5_000, 400), null, T0), T0);   // 4,600 maturing, another order's

        // A partial return: 80 of commission back, the seller's 920 out of o1's own net only; the rest of it matures as before.
        var (partial, first) = books.Refund(new LedgerRefund("o1", "r1", Usd(1_000)), null);
        Keep(first, T0);
        Assert.Equal(LedgerRefundResult.Applied, partial);
        Assert.Equal(["o1:refund:r1:commission", "o1:refund:r1:pending"], first.Select(t => t.TransferId));
        Assert.Equal(new Money(7_780, "USD"), books.Maturing["o1"].Net);
        // The rest of the price: the last 720 of commission, then o1's remaining 7,780 and 500 of the available balance (the
        // logistics fee stays with the platform); o2's net is not touched.
        var (rest, second) = books.Refund(new LedgerRefund("o1", "r2", Usd(9_000)), null);
        Keep(second, T0);
        Assert.Equal(LedgerRefundResult.Applied, rest);
        Assert.Equal(["o1:refund:r2:commission", "o1:refund:r2:pending", "o1:refund:r2:available"], second.Select(t => t.TransferId));
        Assert.False(books.Maturing.ContainsKey("o1"));
        Assert.Equal(4_600, Posted(books, "seller:pending:USD"));
        Assert.Equal(1_340, Posted(books, "seller:available:USD"));
        Assert.Equal(160 + 400, Posted(books, "platform:commission:USD"));  // o0 and o2 keep theirs
        Assert.Equal(10_000, Posted(books, "psp:refunds:USD"));

        // Replayed from its transfers, the books come out the same.
        var rebuilt = new SellerBooks(_rates);
        foreach (var (t, at) in log)
        {
            rebuilt.Replay(t, at);
        }
        Assert.Equal(books.Accounts.ToDictionary(a => a.Key, a => a.Value), rebuilt.Accounts.ToDictionary(a => a.Key, a => a.Value));
        Assert.Equal(books.Maturing.ToDictionary(), rebuilt.Maturing.ToDictionary());

        books.Mature(T0.AddDays(7), TimeSpan.FromDays(7));
        Assert.Equal(0, Posted(books, "seller:pending:USD"));
        Assert.Equal(5_940, Posted(books, "seller:available:USD"));
        AssertBalanced(books);
    }

    [Fact]
    public void Refunds_after_release_give_back_the_vat_and_commission_in_proportion_and_all_of_both_with_the_last_refund()
    {
        var books = new SellerBooks(_rates);
        var log = new List<Transfer>();
        log.AddRange(books.HoldInEscrow("o1", Usd(10_000)));
        log.AddRange(books.ReleaseEscrow(new EscrowRelease("o1", Usd(720), Usd(0), Usd(1_000), "DE", Usd(8_280)), null, T0));
        log.AddRange(books.Mature(T0.AddDays(1), TimeSpan.FromDays(1)));

        // A third of the price: 333 of VAT (the IOSS return declares that much less) and 239 of commission come back, rounded down.
        var (result, applied) = books.Refund(new LedgerRefund("o1", "r1", Usd(3_333)), null);
        log.AddRange(applied);
        Assert.Equal(LedgerRefundResult.Applied, result);
        Assert.Equal(["o1:refund:r1:commission", "o1:refund:r1:tax", "o1:refund:r1:available"], applied.Select(t => t.TransferId));
        Assert.Equal("tax:payable:DE:USD", applied[1].DebitAccount);
        Assert.Equal(667, Posted(books, "tax:payable:DE:USD"));
        Assert.Equal(481, Posted(books, "platform:commission:USD"));
        Assert.Equal(8_280 - 2_761, Posted(books, "seller:available:USD"));
        Assert.Equal(new SellerBooksImage.ReleasedShares(720, 1_000, "tax:payable:DE:USD", 239, 333), books.Order("o1")!.Split);

        // The rest: what is left of both, so nothing of a fully refunded sale stays declared or earned.
        log.AddRange(books.Refund(new LedgerRefund("o1", "r2", Usd(6_667)), null).Applied);
        Assert.Equal(0, Posted(books, "tax:payable:DE:USD"));
        Assert.Equal(0, Posted(books, "platform:commission:USD"));
        Assert.Equal(0, Posted(books, "seller:available:USD"));
        Assert.Equal(10_000, Posted(books, "psp:refunds:USD"));
        AssertBalanced(books);

        // Replayed from its transfers, and restored from a snapshot, the books know what was given back.
        var rebuilt = new SellerBooks(_rates);
        foreach (var t in log)
        {
            rebuilt.Replay(t, T0);
        }
        Assert.Equal(books.Order("o1"), rebuilt.Order("o1"));
        Assert.Equal(books.Order("o1"), SellerBooks.Restore(_rates, books.Snapshot()).Order("o1"));
    }

    [Fact]
    public void An_order_released_before_the_books_kept_its_commission_and_tax_takes_them_from_its_transfers_for_a_refund()
    {
        var books = new SellerBooks(_rates);
        var history = new List<LedgerEntry>();
        history.AddRange(books.HoldInEscrow("o1", Usd(10_000)).Select(t => new LedgerEntry(t, T0)));
        history.AddRange(books.ReleaseEscrow(Split("o1", 10_000, 800), null, T0).Select(t => new LedgerEntry(t, T0)));
        books.Mature(T0.AddDays(1), TimeSpan.FromDays(1));
        // The SBK1 form of these books: the same bytes but for the mark and the one order's shares, which SBK2 writes last in the
        // order's record (present, commission, tax, no tax account, two amounts returned: 34 bytes) before the maturing list (empty).
        var current = books.Snapshot();
        Assert.Equal("SBK2"u8.ToArray(), current[..4]);
        byte[] old = [.. "SBK1"u8, .. current[4..^(34 + 4)], .. current[^4..]];

        var restored = SellerBooks.Restore(_rates, old);

        Assert.True(restored.SplitUnknown("o1"));
        Assert.False(books.SplitUnknown("o1"));
        // Refunded as such books did before (the whole amount charged to the seller) ...
        var legacy = SellerBooks.Restore(_rates, old);
        Assert.Equal(LedgerRefundResult.Applied, legacy.Refund(new LedgerRefund("o1", "r1", Usd(1_000)), null).Result);
        Assert.Equal(8_200, Posted(legacy, "seller:available:USD"));
        // ... unless the order's stored transfers are read first: then the commission comes back as for any other order.
        restored.LearnSplit("o1", history);
        Assert.Equal(books.Order("o1"), restored.Order("o1"));
        Assert.Equal(LedgerRefundResult.Applied, restored.Refund(new LedgerRefund("o1", "r1", Usd(1_000)), null).Result);
        Assert.Equal(8_280, Posted(restored, "seller:available:USD"));
        Assert.Equal(720, Posted(restored, "platform:commission:USD"));
        // History that misses a refund the books applied teaches nothing.
        legacy.LearnSplit("o1", history);
        Assert.True(legacy.SplitUnknown("o1"));
    }

    [Fact]
    public void The_seller_net_is_converted_into_the_settlement_currency_at_release_through_fx_clearing()
    {
        var books = new SellerBooks(_rates);
        books.HoldInEscrow("o1", Usd(10_001));

        var applied = books.ReleaseEscrow(Split("o1", 10_001, 800), "EUR", T0);

        // 92.01 USD × 0.5 = 46.005 EUR → 46.01 (half away from zero, once).
        Assert.Equal(["o1:escrow-post", "o1:commission", "o1:seller-net:convert", "o1:seller-net"], applied.Select(t => t.TransferId));
        Assert.Equal(4_601, Posted(books, "seller:pending:EUR"));
        Assert.Equal(9_201, Posted(books, "fx:conversion:USD"));
        Assert.Equal(-4_601, Posted(books, "fx:conversion:EUR"));
        Assert.Null(books.Balance("seller:pending:USD"));
        Assert.Equal((new Money(4_601, "EUR"), T0), books.Maturing["o1"]);
        AssertBalanced(books);

        books.Mature(T0.AddDays(3), TimeSpan.FromDays(3));
        Assert.Equal(4_601, Posted(books, "seller:available:EUR"));
        Assert.Equal(WithdrawalResult.InsufficientFunds, books.Withdraw("w1", Usd(1)).Result);
        Assert.Equal(WithdrawalResult.Applied, books.Withdraw("w1", new Money(4_000, "EUR")).Result);
        Assert.Equal(WithdrawalResult.AlreadyApplied, books.Withdraw("w1", new Money(4_000, "EUR")).Result);
        Assert.Equal(601, Posted(books, "seller:available:EUR"));
    }

    [Fact]
    public void A_refund_after_a_converted_release_is_charged_in_the_settlement_currency_at_the_current_rate()
    {
        var books = new SellerBooks(_rates);
        books.HoldInEscrow("o1", Usd(10_000));
        books.ReleaseEscrow(Split("o1", 10_000, 0), "EUR", T0);                // 5,000 EUR
        books.Mature(T0.AddDays(1), TimeSpan.FromDays(1));
        _rates.UnitsPerUsd["EUR"] = 0.8m;

        var (result, applied) = books.Refund(new LedgerRefund("o1", "r1", Usd(2_500)), "EUR");

        Assert.Equal(LedgerRefundResult.Applied, result);
        Assert.Equal(["o1:refund:r1:available", "o1:refund:r1"], applied.Select(t => t.TransferId));
        Assert.Equal(3_000, Posted(books, "seller:available:EUR"));           // 25.00 USD × 0.8 = 20.00 EUR
        Assert.Equal(2_500, Posted(books, "psp:refunds:USD"));                // the buyer gets back what was paid, in USD
        Assert.Equal(7_500, books.Order("o1")!.Refundable);
        AssertBalanced(books);
    }

    [Fact]
    public void A_refund_after_the_seller_switched_its_settlement_currency_is_paid_from_the_orders_own_net_and_the_old_balances()
    {
        // Charged in the new settlement currency alone, the order's own net (still maturing in the currency it was settled in) and
        // what the seller kept in that currency counted for nothing: the buyer's refund was refused.
        var books = new SellerBooks(_rates);
        books.HoldInEscrow("o0", Usd(4_000));
        books.ReleaseEscrow(Split("o0", 4_000, 0), null, T0.AddDays(-10));
        books.Mature(T0, TimeSpan.FromDays(7));                                 // 4,000 USD available
        books.HoldInEscrow("o1", Usd(10_000));
        books.ReleaseEscrow(new EscrowRelease("o1", Usd(800), Usd(500), Usd(0), null, Usd(8_700)), null, T0); // 8,700 USD maturing

        // The seller settles in EUR now, and has nothing in EUR. Half the price back: 400 of commission, 4,600 of o1's own net.
        var (result, applied) = books.Refund(new LedgerRefund("o1", "r1", Usd(5_000)), "EUR");

        Assert.Equal(LedgerRefundResult.Applied, result);
        Assert.Equal(["o1:refund:r1:commission", "o1:refund:r1:pending"], applied.Select(t => t.TransferId));
        Assert.Equal(new Money(4_100, "USD"), books.Maturing["o1"].Net);

        // The other half: 400 of commission, o1's last 4,100, and 500 (the logistics fee stays with the platform) from the USD
        // the seller still has.
        (result, applied) = books.Refund(new LedgerRefund("o1", "r2", Usd(5_000)), "EUR");

        Assert.Equal(LedgerRefundResult.Applied, result);
        Assert.Equal(["o1:refund:r2:commission", "o1:refund:r2:pending", "o1:refund:r2:available:USD"], applied.Select(t => t.TransferId));
        Assert.False(books.Maturing.ContainsKey("o1"));
        Assert.Equal(3_500, Posted(books, "seller:available:USD"));
        Assert.Equal(10_000, Posted(books, "psp:refunds:USD"));
        Assert.Null(books.Balance("seller:available:EUR"));
        Assert.Equal(LedgerRefundResult.ExceedsPaid, books.Refund(new LedgerRefund("o1", "r3", Usd(1)), "EUR").Result);
        AssertBalanced(books);
    }

    [Fact]
    public void A_refund_after_a_switch_takes_the_new_currencys_balance_before_the_old_one_and_covers_the_rest_at_the_rate()
    {
        var books = new SellerBooks(_rates);
        books.HoldInEscrow("o1", Usd(10_000));
        books.ReleaseEscrow(Split("o1", 10_000, 0), null, T0);                // 10,000 USD maturing
        books.Mature(T0.AddDays(1), TimeSpan.FromDays(1));                     // now available: no order net left to take first
        Assert.Equal(DepositResult.Applied, books.FundDeposit("d1", new Money(1_001, "EUR")).Result); // 1,001 EUR deposit (20.02 USD)

        var (result, applied) = books.Refund(new LedgerRefund("o1", "r1", Usd(3_001)), "EUR");

        // 30.01 USD is 15.01 EUR (15.005, half away from zero); the EUR deposit pays all 10.01 EUR it has, which buys 20.02 USD;
        // the other 9.99 USD come from the USD balance; 20.02 USD pass through the conversion accounts to the buyer.
        Assert.Equal(LedgerRefundResult.Applied, result);
        Assert.Equal(["o1:refund:r1:deposit", "o1:refund:r1:available:USD", "o1:refund:r1"], applied.Select(t => t.TransferId));
        Assert.Equal(0, Posted(books, "seller:deposit:EUR"));
        Assert.Equal(10_000 - 999, Posted(books, "seller:available:USD"));
        Assert.Equal(3_001, Posted(books, "psp:refunds:USD"));
        Assert.Equal(2_002, applied.Single(t => t.TransferId == "o1:refund:r1").Amount);
        AssertBalanced(books);
    }

    [Fact]
    public void A_refund_after_a_switch_leaves_out_a_currency_the_rate_table_no_longer_has_instead_of_failing()
    {
        var books = new SellerBooks(_rates);
        books.HoldInEscrow("o1", Usd(10_000));
        books.ReleaseEscrow(Split("o1", 10_000, 0), "EUR", T0);               // 5,000 EUR maturing
        books.FundDeposit("d1", new Money(300_000, "JPY"));                   // the seller now settles in JPY
        _rates.UnitsPerUsd.Remove("EUR");                                     // a new table without EUR

        var (result, applied) = books.Refund(new LedgerRefund("o1", "r1", Usd(1_000)), "JPY");

        // 10.00 USD from the JPY deposit (1,500 JPY at 150), not a failure converting into EUR on every retry.
        Assert.Equal(LedgerRefundResult.Applied, result);
        Assert.Equal(["o1:refund:r1:deposit", "o1:refund:r1"], applied.Select(t => t.TransferId));
        Assert.Equal(300_000 - 1_500, Posted(books, "seller:deposit:JPY"));
        Assert.Equal(new Money(5_000, "EUR"), books.Maturing["o1"].Net);
        AssertBalanced(books);
    }

    [Fact]
    public void Deposits_are_idempotent_by_id_and_an_id_is_not_reused_for_another_amount()
    {
        var books = new SellerBooks(_rates);

        Assert.Equal(DepositResult.Applied, books.FundDeposit("d1", Usd(1_000)).Result);
        Assert.Equal(DepositResult.AlreadyApplied, books.FundDeposit("d1", Usd(1_000)).Result);
        Assert.Equal(DepositResult.IdReused, books.FundDeposit("d1", Usd(2_000)).Result);

        Assert.Equal(1_000, Posted(books, "seller:deposit:USD"));
        Assert.Equal(-1_000, Posted(books, "psp:deposits:USD"));
    }

    [Fact]
    public void Books_rebuilt_from_their_transfers_are_the_same_books()
    {
        var books = new SellerBooks(_rates);
        var log = new List<(Transfer, DateTimeOffset)>();
        void Keep(IEnumerable<Transfer> applied, DateTimeOffset at) => log.AddRange(applied.Select(t => (t, at)));
        Keep(books.HoldInEscrow("o1", Usd(10_000)), T0);
        Keep(books.Refund(new LedgerRefund("o1", "r1", Usd(1_000)), null).Applied, T0);
        Keep(books.ReleaseEscrow(Split("o1", 9_000, 720), "EUR", T0.AddHours(1)), T0.AddHours(1));
        Keep(books.FundDeposit("d1", new Money(500, "EUR")).Applied, T0);
        Keep(books.Refund(new LedgerRefund("o1", "r2", Usd(400)), null).Applied, T0);

        var rebuilt = new SellerBooks(_rates);
        foreach (var (t, at) in log)
        {
            rebuilt.Replay(t, at);
        }

        Assert.Equal(books.Accounts.ToDictionary(a => a.Key, a => a.Value), rebuilt.Accounts.ToDictionary(a => a.Key, a => a.Value));
        Assert.Equal(books.Order("o1"), rebuilt.Order("o1"));
        Assert.Equal(books.Maturing.ToDictionary(), rebuilt.Maturing.ToDictionary());
        Assert.Equal(LedgerRefundResult.AlreadyApplied, rebuilt.Refund(new LedgerRefund("o1", "r1", Usd(1_000)), null).Result);
    }

    [Fact]
    public void Snapshots_of_growing_books_come_in_proportion_to_their_size_so_each_transfer_pays_a_bounded_share()
    {
        // A flash sale's seller: every order holds escrow (one transfer, one new account, one new order) and none is released.
        const int orders = 20_000, every = 1_000;
        var books = new SellerBooks(_rates);
        int since = 0, snapshots = 0, transfers = 0;
        long snapshotted = 0;
        for (var i = 0; i < orders; i++)
        {
            var applied = books.HoldInEscrow($"o{i}", Usd(1_000));
            transfers += applied.Count;
            since += applied.Count;
            if (SellerBooks.SnapshotDue(since, books.Size, every))
            {
                snapshots++;
                snapshotted += books.Size;
                since = 0;
            }
        }

        Assert.Equal(orders, transfers);
        // A fixed interval would have taken 20 snapshots of 2,000 to 40,000 items (420,000 in all, 21 per transfer); in
        // proportion to the size they come at 1,000, 2,000, 4,000, 8,000 and 16,000 transfers.
        Assert.InRange(snapshots, 4, 6);
        Assert.InRange(snapshotted, orders, 4L * transfers);
        Assert.True(SellerBooks.SnapshotDue(every, size: 10, every));
        Assert.False(SellerBooks.SnapshotDue(every - 1, size: 10, every));
        Assert.False(SellerBooks.SnapshotDue(1_999, size: 8_000, every));
        Assert.True(SellerBooks.SnapshotDue(2_000, size: 8_000, every));
    }

    [Fact]
    public void A_copy_of_the_books_encodes_as_they_stood_when_it_was_taken_whatever_they_did_since()
    {
        var books = new SellerBooks(_rates);
        books.HoldInEscrow("o1", Usd(10_000));
        books.HoldInEscrow("o2", Usd(5_000));
        books.Refund(new LedgerRefund("o1", "r1", Usd(1_000)), null);
        var expected = books.Snapshot();

        var capture = books.CaptureState();
        // Everything a copy could share with the live books changes: balances, a pending hold closing, an order's refund ids,
        // a new order, the maturing list.
        books.Refund(new LedgerRefund("o1", "r2", Usd(500)), null);
        books.ReleaseEscrow(Split("o1", 8_500, 0), null, T0);
        books.VoidEscrow("o2");
        books.HoldInEscrow("o3", Usd(2_000));
        books.FundDeposit("d1", Usd(700));

        Assert.Equal(expected, capture.ToSnapshot());
        Assert.NotEqual(expected, books.Snapshot());
        var restored = SellerBooks.Restore(_rates, capture.ToSnapshot());
        Assert.Equal(9_000, restored.Order("o1")!.Held);
        Assert.Null(restored.Order("o3"));
    }

    [Fact]
    public void Books_restored_from_a_snapshot_still_recognise_repeats_and_refuse_reused_ids()
    {
        var books = new SellerBooks(_rates);
        books.HoldInEscrow("o1", Usd(10_000));
        books.FundDeposit("d1", Usd(700));
        books.Refund(new LedgerRefund("o1", "r1", Usd(1_000)), null);

        var restored = SellerBooks.Restore(_rates, books.Snapshot());

        Assert.Equal(books.Accounts.ToDictionary(a => a.Key, a => a.Value), restored.Accounts.ToDictionary(a => a.Key, a => a.Value));
        Assert.Empty(restored.HoldInEscrow("o1", Usd(10_000)));
        Assert.Throws<InvalidOperationException>(() => restored.HoldInEscrow("o1", Usd(10_001)));
        Assert.Equal(DepositResult.AlreadyApplied, restored.FundDeposit("d1", Usd(700)).Result);
        Assert.Equal(DepositResult.IdReused, restored.FundDeposit("d1", Usd(701)).Result);
        Assert.Equal(LedgerRefundResult.AlreadyApplied, restored.Refund(new LedgerRefund("o1", "r1", Usd(1_000)), null).Result);
        Assert.Single(restored.ReleaseEscrow(Split("o1", 9_000, 0), null, T0), t => t.TransferId == "o1:escrow-post");
        Assert.Equal(9_000, Posted(restored, "seller:pending:USD"));
    }

    [Fact]
    public void A_group_of_transfers_that_fails_part_way_leaves_the_ledger_as_it_was()
    {
        var ledger = new Ledger(SellerBooks.GuardOf);
        ledger.Apply(new Transfer("in", TransferKind.Posted, "psp:clearing:USD", "seller:available:USD", 100, "USD"));
        var before = ledger.Accounts.ToDictionary(a => a.Key, a => a.Value);

        var (result, refused) = ledger.ApplyAll([
            new Transfer("hold", TransferKind.Pending, "psp:clearing:USD", "escrow:o1", 50, "USD"),
            new Transfer("out", TransferKind.Posted, "seller:available:USD", "psp:payouts:USD", 60, "USD"),
            new Transfer("out2", TransferKind.Posted, "seller:available:USD", "psp:payouts:USD", 60, "USD"),
        ]);

        Assert.Equal(TransferResult.InsufficientFunds, result);
        Assert.Equal("out2", refused!.TransferId);
        Assert.Equal(before, ledger.Accounts.ToDictionary(a => a.Key, a => a.Value));
        Assert.False(ledger.Contains("hold"));
        Assert.Equal(0, ledger.PendingAmount("hold"));
        Assert.Equal(TransferResult.Applied, ledger.Apply(new Transfer("out", TransferKind.Posted, "seller:available:USD", "psp:payouts:USD", 60, "USD")));
    }

    [Fact]
    public void The_ledger_view_pages_escrow_accounts_by_id_and_counts_and_sums_them_all()
    {
        var books = new SellerBooks(_rates);
        foreach (var (order, amount, currency) in new[] { ("o5", 500L, "USD"), ("o1", 100L, "USD"), ("o3", 300L, "EUR"), ("o2", 200L, "USD"), ("o4", 400L, "USD") })
        {
            books.HoldInEscrow(order, new Money(amount, currency));
        }
        books.VoidEscrow("o4");
        books.FundDeposit("d1", Usd(1_000));

        var first = books.View(null, 2);
        var second = books.View(first.NextEscrowCursor, 2);
        var third = books.View(second.NextEscrowCursor, 2);
        var everything = books.View(null, 5);

        static string[] Escrows(SellerLedgerView view) => view.Accounts.Select(a => a.AccountId).Where(id => id.StartsWith("escrow:")).ToArray();
        Assert.Equal(["escrow:o1", "escrow:o2"], Escrows(first));
        Assert.Equal(["escrow:o3", "escrow:o4"], Escrows(second));
        Assert.Equal(["escrow:o5"], Escrows(third));
        Assert.Equal(("escrow:o2", "escrow:o4", (string?)null), (first.NextEscrowCursor, second.NextEscrowCursor, third.NextEscrowCursor));
        Assert.Null(everything.NextEscrowCursor);                                    // exactly one page: no next
        Assert.Empty(Escrows(books.View("escrow:o5", 2)));
        // Every page lists the seller's other accounts, by id, and the same summary over all five escrows (o4's was voided).
        foreach (var view in new[] { first, second, third, everything })
        {
            Assert.Equal(["psp:clearing:EUR", "psp:clearing:USD", "psp:deposits:USD", "seller:deposit:USD"],
                view.Accounts.Select(a => a.AccountId).Where(id => !id.StartsWith("escrow:")));
            Assert.Equal(view.Accounts.Select(a => a.AccountId).Order(StringComparer.Ordinal), view.Accounts.Select(a => a.AccountId));
            Assert.Equal(5, view.EscrowAccounts);
            Assert.Equal([new EscrowHeld("EUR", 300, 1), new EscrowHeld("USD", 800, 3)], view.Held);
        }
        Assert.Equal(new LedgerAccountView("escrow:o3", "EUR", 0, 300, 0), first.Accounts.Concat(second.Accounts).Single(a => a.AccountId == "escrow:o3"));
        Assert.Throws<ArgumentOutOfRangeException>(() => books.View(null, 0));
    }

    [Fact]
    public void Snapshots_are_binary_and_snapshots_stored_as_json_before_still_restore()
    {
        var books = new SellerBooks(_rates);
        books.HoldInEscrow("o1", Usd(10_000));
        books.HoldInEscrow("o2", new Money(5_000, "EUR"));
        books.ReleaseEscrow(Split("o1", 10_000, 800), "EUR", T0);
        books.Refund(new LedgerRefund("o2", "r1", new Money(1_000, "EUR")), null);
        books.Refund(new LedgerRefund("o2", "r0", new Money(500, "EUR")), null);
        books.FundDeposit("d1", Usd(2_000));
        var capture = books.CaptureState();

        var binary = capture.ToSnapshot();
        var json = capture.ToJsonSnapshot();

        Assert.True(SellerBooksBinary.IsBinary(binary));
        Assert.Equal((byte)'{', json[0]);
        Assert.True(binary.Length * 2 < json.Length, $"binary {binary.Length} bytes, JSON {json.Length}");
        // Either form restores the same books, which encode to the same bytes; the maturing release keeps its time and offset.
        var fromBinary = SellerBooks.Restore(_rates, binary);
        var fromJson = SellerBooks.Restore(_rates, json);
        Assert.Equal(binary, fromBinary.Snapshot());
        Assert.Equal(binary, fromJson.Snapshot());
        Assert.Equal(books.Maturing.ToDictionary(), fromBinary.Maturing.ToDictionary());
        Assert.Equal(books.Order("o2"), fromBinary.Order("o2"));
        Assert.Equal(LedgerRefundResult.AlreadyApplied, fromBinary.Refund(new LedgerRefund("o2", "r0", new Money(500, "EUR")), null).Result);
        // A cut-short snapshot is refused rather than read as fewer books.
        Assert.ThrowsAny<Exception>(() => SellerBooks.Restore(_rates, binary.AsMemory(0, binary.Length - 3)));
        Assert.Throws<InvalidOperationException>(() => SellerBooks.Restore(_rates, binary.Append((byte)0).ToArray()));
    }
}
