using Orleans.Trade.Common;
using Orleans.Trade.Orders;
using Orleans.Trade.Wallets;

namespace Orleans.Trade.Tests.Wallets;

/// <summary>
/// Simulation of a seller's books (TigerBeetle style): seeded random histories of payments, cancellations, completions with a
/// split, partial and full refunds before and after release, maturity, withdrawals, deposits, settlement-currency switches and
/// moving exchange rates, over orders in three currencies. After every step: each currency sums to zero over all accounts
/// (posted and pending), no guarded account is negative, repeating an earlier operation changes nothing, and every balance
/// equals what a simple model of the rules expects. Books rebuilt from their transfers equal the originals.
/// </summary>
public sealed class SellerBooksSimulationTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly string[] Currencies = ["USD", "EUR", "JPY"];
    private static readonly string?[] SettlementChoices = [null, "USD", "EUR", "JPY"];

    public static IEnumerable<object[]> Seeds() => Enumerable.Range(1, 150).Select(seed => new object[] { seed });

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Random_histories_keep_the_books_balanced_and_equal_to_a_simple_model(int seed)
    {
        var random = new Random(seed);
        var rates = new MovableFxRates();
        var books = new SellerBooks(rates);
        var model = new BooksModel(rates);
        var log = new List<(Transfer Transfer, DateTimeOffset At)>();
        var repeatable = new List<Func<SellerBooks, IReadOnlyList<Transfer>>>();
        var snapshotAt = random.Next(50, 250);
        (SellerBooksCapture Capture, int LogCount)? snapshot = null;
        var settlement = SettlementChoices[random.Next(SettlementChoices.Length)];
        var cycle = TimeSpan.FromDays(random.Next(1, 5));
        var now = T0;

        for (var step = 0; step < 300; step++)
        {
            now += TimeSpan.FromHours(random.Next(0, 30));
            var at = now;
            void Keep(IReadOnlyList<Transfer> applied, Func<SellerBooks, IReadOnlyList<Transfer>> again)
            {
                log.AddRange(applied.Select(t => (t, at)));
                repeatable.Add(again);
            }
            var orderId = model.Orders.Count > 0 && random.Next(10) > 0 ? model.Orders.Keys.ElementAt(random.Next(model.Orders.Count)) : $"o{step}";
            switch (random.Next(100))
            {
                case < 15:
                {
                    var id = $"o{step}";
                    var currency = Currencies[random.Next(Currencies.Length)];
                    var amount = new Money(random.Next(1, currency == "JPY" ? 30_000 : 200_000), currency);
                    Keep(books.HoldInEscrow(id, amount), b => b.HoldInEscrow(id, amount));
                    model.Pay(id, amount);
                    break;
                }
                case < 22:
                {
                    var applied = books.VoidEscrow(orderId);
                    Assert.Equal(model.Void(orderId), applied.Count > 0);
                    Keep(applied, b => b.VoidEscrow(orderId));
                    break;
                }
                case < 37:
                {
                    var order = model.Orders.GetValueOrDefault(orderId);
                    if (order is null || order.Released is not null)
                    {
                        if (order is not null)
                        {
                            Assert.Empty(books.ReleaseEscrow(Split(orderId, order, 0, random), settlement, at)); // released before: a retry
                        }
                        break;
                    }
                    if (!order.HoldOpen)
                    {
                        AssertUnchanged(books, () => Assert.Empty(books.ReleaseEscrow(Split(orderId, order, 0, random), settlement, at))); // nothing held: a zero split
                        AssertUnchanged(books, () => Assert.Throws<InvalidOperationException>(() => books.ReleaseEscrow(Split(orderId, order, 1, random), settlement, at)));
                        break;
                    }
                    if (random.Next(10) == 0)
                    {
                        var wrong = Split(orderId, order, random.Next(2) == 0 ? 1 : -1, random);
                        AssertUnchanged(books, () => Assert.Throws<ArgumentException>(() => books.ReleaseEscrow(wrong, settlement, at)));
                        break;
                    }
                    var split = Split(orderId, order, 0, random);
                    var chosen = settlement;
                    Keep(books.ReleaseEscrow(split, chosen, at), b => b.ReleaseEscrow(split, chosen, at));
                    model.Release(split, chosen, at);
                    break;
                }
                case < 62:
                {
                    var order = model.Orders.GetValueOrDefault(orderId);
                    var refundable = order?.Refundable ?? 0;
                    var amount = random.Next(5) switch
                    {
                        0 => refundable,
                        1 => refundable + 1,
                        _ => random.NextInt64(1, Math.Max(2, refundable / 2 + 1)),
                    };
                    var refundId = order is { RefundIds.Count: > 0 } && random.Next(8) == 0 ? order.RefundIds.First() : $"r{step}";
                    var refund = new LedgerRefund(orderId, refundId, new Money(Math.Max(1, amount), order?.Currency ?? "USD"));
                    var expected = model.Refund(refund, settlement);
                    var before = Snapshot(books);
                    var (result, applied) = books.Refund(refund, settlement);
                    Assert.Equal(expected, result);
                    if (result == LedgerRefundResult.Applied)
                    {
                        Assert.NotEmpty(applied);
                        Assert.All(applied, t => Assert.Contains($":refund:{refundId}", t.TransferId));
                        var chosen = settlement;
                        Keep(applied, b =>
                        {
                            var (again, none) = b.Refund(refund, chosen);
                            Assert.Equal(LedgerRefundResult.AlreadyApplied, again);
                            return none;
                        });
                    }
                    else
                    {
                        Assert.Empty(applied);
                        Assert.Equal(before, Snapshot(books));
                    }
                    break;
                }
                case < 72:
                {
                    var when = at;
                    Keep(books.Mature(when, cycle), b => b.Mature(when, cycle));
                    model.Mature(when, cycle);
                    break;
                }
                case < 82:
                {
                    var currency = Currencies[random.Next(Currencies.Length)];
                    var amount = new Money(random.NextInt64(1, model.Posted($"seller:available:{currency}") + 100), currency);
                    var id = $"w{step}";
                    var (result, applied) = books.Withdraw(id, amount);
                    Assert.Equal(model.Withdraw(amount), result);
                    if (result == WithdrawalResult.Applied)
                    {
                        Keep(applied, b =>
                        {
                            var (again, none) = b.Withdraw(id, amount);
                            Assert.Equal(WithdrawalResult.AlreadyApplied, again);
                            return none;
                        });
                    }
                    break;
                }
                case < 91:
                {
                    var amount = new Money(random.Next(1, 50_000), Currencies[random.Next(Currencies.Length)]);
                    var id = $"d{step}";
                    var (result, applied) = books.FundDeposit(id, amount);
                    Assert.Equal(DepositResult.Applied, result);
                    Keep(applied, b => b.FundDeposit(id, amount).Applied);
                    model.Deposit(amount);
                    break;
                }
                case < 96:
                    settlement = SettlementChoices[random.Next(SettlementChoices.Length)];
                    break;
                default:
                    rates.UnitsPerUsd["EUR"] = Math.Round(0.4m + (decimal)random.NextDouble(), 4);
                    rates.UnitsPerUsd["JPY"] = Math.Round(100m + 100m * (decimal)random.NextDouble(), 2);
                    break;
            }

            AssertInvariants(books);
            model.AssertMatches(books);
            if (step == snapshotAt)
            {
                // Copied now, encoded only at the end: the copy must not see what the books do in between.
                snapshot = (books.CaptureState(), log.Count);
            }
            if (repeatable.Count > 0)
            {
                var again = repeatable[random.Next(repeatable.Count)];
                AssertUnchanged(books, () => Assert.Empty(again(books)));
            }
        }

        var rebuilt = new SellerBooks(rates);
        foreach (var (t, at) in log)
        {
            rebuilt.Replay(t, at);
        }
        Assert.Equal(Snapshot(books), Snapshot(rebuilt));
        Assert.Equal(books.Maturing.ToDictionary(), rebuilt.Maturing.ToDictionary());
        Assert.All(model.Orders.Keys, id => Assert.Equal(books.Order(id), rebuilt.Order(id)));

        // Books restored from the snapshot taken part-way, plus the transfers after it, are the same books, and still know every id.
        var restored = SellerBooks.Restore(rates, snapshot!.Value.Capture.ToSnapshot());
        foreach (var (t, at) in log.Skip(snapshot.Value.LogCount))
        {
            restored.Replay(t, at);
        }
        Assert.Equal(books.Snapshot(), restored.Snapshot());
        Assert.All(model.Orders.Keys, id => Assert.Equal(books.Order(id), restored.Order(id)));
        Assert.All(repeatable, again => AssertUnchanged(restored, () => Assert.Empty(again(restored))));
        AssertInvariants(restored);
    }

    /// <summary>Commission 8% of what is held, sometimes tax and a logistics fee, the rest to the seller; <paramref name="off"/> breaks the sum.</summary>
    private static EscrowRelease Split(string orderId, BooksModel.OrderModel order, long off, Random random)
    {
        var held = order.Held;
        var commission = held * 8 / 100;
        var tax = random.Next(3) == 0 ? held / 10 : 0;
        var logistics = random.Next(3) == 0 ? held / 50 : 0;
        var c = order.Currency;
        return new EscrowRelease(orderId, new Money(commission, c), new Money(logistics, c), new Money(tax, c), tax > 0 ? "DE" : null,
            new Money(Math.Max(0, held - commission - tax - logistics + off), c));
    }

    private static Dictionary<string, AccountBalance> Snapshot(SellerBooks books) => books.Accounts.ToDictionary(a => a.Key, a => a.Value);

    private static void AssertUnchanged(SellerBooks books, Action action)
    {
        var before = Snapshot(books);
        action();
        Assert.Equal(before, Snapshot(books));
    }

    private static void AssertInvariants(SellerBooks books)
    {
        Assert.All(books.TotalsByCurrency(), totals => Assert.Equal((0L, 0L), totals.Value));
        Assert.All(books.Accounts.Values.Where(a => a.Guard == AccountGuard.MustNotGoNegative),
            a => Assert.True(a.Available >= 0 && a.Posted >= 0, a.ToString()));
    }
}

/// <summary>The rules of the seller books said as simply as possible: amounts per order and balances per account.</summary>
internal sealed class BooksModel(IFxRates rates)
{
    public sealed class OrderModel(string currency, long held)
    {
        public string Currency { get; } = currency;
        public long Held { get; set; } = held;
        public bool HoldOpen { get; set; } = true;
        public long? Released { get; set; }
        public long RefundedAfterRelease { get; set; }
        public string? SettledCurrency { get; set; }
        public HashSet<string> RefundIds { get; } = [];
        public (long Commission, long Tax, string TaxAccount)? Booked { get; set; }
        public long CommissionReturned { get; set; }
        public long TaxReturned { get; set; }
        public long Refundable => Released is { } r ? r - RefundedAfterRelease : HoldOpen ? Held : 0;
    }

    private readonly Dictionary<string, long> _posted = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long Amount, string Currency, DateTimeOffset At)> _maturing = new(StringComparer.Ordinal);

    public Dictionary<string, OrderModel> Orders { get; } = new(StringComparer.Ordinal);

    public long Posted(string account) => _posted.GetValueOrDefault(account);

    private void Add(string account, long amount) => _posted[account] = _posted.GetValueOrDefault(account) + amount;

    private long Convert(long amount, string from, string to) =>
        from == to ? amount : rates.TryGetRate(from, to, out var rate, out _) ? CurrencyConversion.Convert(new Money(amount, from), to, rate).AmountMinor
            : throw new InvalidOperationException("no rate");

    public void Pay(string orderId, Money amount) => Orders.TryAdd(orderId, new OrderModel(amount.Currency, amount.AmountMinor));

    public bool Void(string orderId)
    {
        if (Orders.GetValueOrDefault(orderId) is not { HoldOpen: true } order)
        {
            return false;
        }
        order.HoldOpen = false;
        order.Held = 0;
        return true;
    }

    public void Release(EscrowRelease split, string? settlement, DateTimeOffset at)
    {
        var order = Orders[split.OrderId];
        var c = order.Currency;
        Add($"platform:commission:{c}", split.Commission.AmountMinor);
        Add($"platform:logistics:{c}", split.LogisticsFee.AmountMinor);
        Add($"tax:payable:{split.TaxCountry ?? "XX"}:{c}", split.TaxPayable.AmountMinor);
        var target = settlement ?? c;
        var net = Convert(split.SellerNet.AmountMinor, c, target);
        if (net > 0)
        {
            Add($"seller:pending:{target}", net);
            _maturing[split.OrderId] = (net, target, at);
            order.SettledCurrency = target;
        }
        order.Released = order.Held;
        order.Booked = (split.Commission.AmountMinor, split.TaxPayable.AmountMinor, $"tax:payable:{split.TaxCountry ?? "XX"}:{c}");
        order.Held = 0;
        order.HoldOpen = false;
    }

    public LedgerRefundResult Refund(LedgerRefund refund, string? settlement)
    {
        if (Orders.GetValueOrDefault(refund.OrderId) is not { } order)
        {
            return LedgerRefundResult.ExceedsPaid;
        }
        if (order.RefundIds.Contains(refund.RefundId))
        {
            return LedgerRefundResult.AlreadyApplied;
        }
        var x = refund.Amount.AmountMinor;
        if (x > order.Refundable)
        {
            return LedgerRefundResult.ExceedsPaid;
        }
        if (order.HoldOpen)
        {
            order.Held -= x;
            order.HoldOpen = order.Held > 0;
        }
        else
        {
            // Commission and tax come back in proportion to the refund, rounded down, and what is left of them with the last of
            // the order's money; the seller is charged the rest.
            var booked = order.Booked!.Value;
            var last = x == order.Refundable;
            var taxBack = last ? booked.Tax - order.TaxReturned : Math.Min(booked.Tax - order.TaxReturned, x * booked.Tax / order.Released!.Value);
            var commissionBack = last ? booked.Commission - order.CommissionReturned
                : Math.Min(booked.Commission - order.CommissionReturned, x * booked.Commission / order.Released!.Value);
            taxBack = Math.Min(taxBack, x);
            commissionBack = Math.Min(commissionBack, x - taxBack);
            var target = settlement ?? order.SettledCurrency ?? order.Currency;
            // Who pays the seller's part: the order's own net still maturing (in its currency), then the available balance and the
            // deposit in the settlement currency, then those in the currency the order was settled in when that is another; each
            // currency charged at the rate for what is still left, and what a short one pays covers as much as it buys.
            var hasOwn = _maturing.TryGetValue(refund.OrderId, out var own);
            var old = hasOwn ? own.Currency : order.SettledCurrency;
            var sources = new List<(string Currency, string Account)>();
            if (hasOwn && own.Currency != target) sources.Add((own.Currency, $"seller:pending:{own.Currency}"));
            if (hasOwn && own.Currency == target) sources.Add((target, $"seller:pending:{target}"));
            sources.Add((target, $"seller:available:{target}"));
            sources.Add((target, $"seller:deposit:{target}"));
            if (old is not null && old != target)
            {
                sources.Add((old, $"seller:available:{old}"));
                sources.Add((old, $"seller:deposit:{old}"));
            }
            long Balance(string account) => account.StartsWith("seller:pending:", StringComparison.Ordinal) ? own.Amount : Math.Max(0, Posted(account));
            var remaining = x - taxBack - commissionBack;
            var takes = new List<(string Account, long Amount)>();
            foreach (var (currency, accounts) in Runs(sources))
            {
                if (remaining == 0) break;
                var charge = Convert(remaining, order.Currency, currency);
                var taken = 0L;
                foreach (var account in accounts)
                {
                    var take = Math.Min(charge - taken, Balance(account));
                    if (take > 0) { takes.Add((account, take)); taken += take; }
                }
                long covered;
                if (taken == charge) covered = remaining;
                else
                {
                    // The largest amount of the order currency whose conversion is at most what was taken.
                    long lo = 0, hi = remaining;
                    while (lo < hi)
                    {
                        var mid = lo + (hi - lo + 1) / 2;
                        if (Convert(mid, order.Currency, currency) <= taken) lo = mid; else hi = mid - 1;
                    }
                    covered = lo;
                }
                remaining -= covered;
            }
            if (remaining > 0)
            {
                return LedgerRefundResult.InsufficientFunds;
            }
            foreach (var (account, amount) in takes)
            {
                Add(account, -amount);
                if (account.StartsWith("seller:pending:", StringComparison.Ordinal))
                {
                    if (own.Amount - amount > 0) _maturing[refund.OrderId] = (own.Amount - amount, own.Currency, own.At);
                    else _maturing.Remove(refund.OrderId);
                }
            }
            Add($"platform:commission:{order.Currency}", -commissionBack);
            Add(booked.TaxAccount, -taxBack);
            order.CommissionReturned += commissionBack;
            order.TaxReturned += taxBack;
            Add($"psp:refunds:{order.Currency}", x);
            order.RefundedAfterRelease += x;
        }
        order.RefundIds.Add(refund.RefundId);
        return LedgerRefundResult.Applied;
    }

    /// <summary>Consecutive sources of one currency, as one run charged at one rate.</summary>
    private static IEnumerable<(string Currency, string[] Accounts)> Runs(List<(string Currency, string Account)> sources)
    {
        for (var i = 0; i < sources.Count;)
        {
            var j = i;
            while (j < sources.Count && sources[j].Currency == sources[i].Currency) j++;
            yield return (sources[i].Currency, sources.Skip(i).Take(j - i).Select(s => s.Account).ToArray());
            i = j;
        }
    }

    public void Mature(DateTimeOffset now, TimeSpan cycle)
    {
        foreach (var (orderId, m) in _maturing.Where(m => m.Value.At + cycle <= now).ToArray())
        {
            Add($"seller:pending:{m.Currency}", -m.Amount);
            Add($"seller:available:{m.Currency}", m.Amount);
            _maturing.Remove(orderId);
        }
    }

    public WithdrawalResult Withdraw(Money amount)
    {
        if (Posted($"seller:available:{amount.Currency}") < amount.AmountMinor)
        {
            return WithdrawalResult.InsufficientFunds;
        }
        Add($"seller:available:{amount.Currency}", -amount.AmountMinor);
        Add($"psp:payouts:{amount.Currency}", amount.AmountMinor);
        return WithdrawalResult.Applied;
    }

    public void Deposit(Money amount) => Add($"seller:deposit:{amount.Currency}", amount.AmountMinor);

    public void AssertMatches(SellerBooks books)
    {
        foreach (var (account, expected) in _posted)
        {
            Assert.True(expected == (books.Balance(account)?.Posted ?? 0), $"{account}: model {expected}, books {books.Balance(account)?.Posted ?? 0}");
        }
        foreach (var account in books.Accounts.Values.Where(a => a.AccountId.StartsWith("seller:", StringComparison.Ordinal) || a.AccountId.StartsWith("platform:", StringComparison.Ordinal)))
        {
            Assert.True(account.Posted == Posted(account.AccountId), $"{account.AccountId}: books {account.Posted}, model {Posted(account.AccountId)}");
            Assert.Equal(0, account.DebitsPending + account.CreditsPending);
        }
        foreach (var (orderId, order) in Orders)
        {
            var escrow = books.Balance($"escrow:{orderId}")!;
            Assert.Equal(order.HoldOpen ? order.Held : 0, escrow.CreditsPending);
            Assert.Equal(0, escrow.Posted);
            Assert.Equal(order.Refundable, books.Order(orderId)!.Refundable);
            Assert.Equal(order.Booked is { } b ? new SellerBooksImage.ReleasedShares(b.Commission, b.Tax, b.Tax > 0 ? b.TaxAccount : null,
                order.CommissionReturned, order.TaxReturned) : null, books.Order(orderId)!.Split);
        }
        Assert.Equal(_maturing.Keys.Order(StringComparer.Ordinal), books.Maturing.Keys.Order(StringComparer.Ordinal));
        foreach (var (orderId, m) in _maturing)
        {
            Assert.Equal((m.Amount, m.Currency), (books.Maturing[orderId].Net.AmountMinor, books.Maturing[orderId].Net.Currency));
        }
    }
}
