using Orleans.Trade.Common;
using Orleans.Trade.Wallets;

namespace Orleans.Trade.Tests.Wallets;

/// <summary>
/// Archiving settled orders out of a seller's books changes no answer. Seeded random histories over a year of business time run
/// every operation on two books: one keeps everything, the other archives settled orders at random moments, takes an archived
/// order back from the stored transfers before an operation on it (as the ledger grain does), and now and then restarts from a
/// snapshot plus the transfers stored after it. Both must give the same results and transfers; the archiving books must hold
/// the same balances except the settled escrow accounts they dropped, and the same standing for every order they hold.
/// </summary>
public sealed class SellerBooksArchiveTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan KeepFor = TimeSpan.FromDays(30);
    private static readonly string[] Currencies = ["USD", "EUR", "JPY"];

    public static IEnumerable<object[]> Seeds() => Enumerable.Range(1, 60).Select(seed => new object[] { seed });

    /// <summary>The two books and the transfer table the archiving one is stored in.</summary>
    private sealed class Twins(MovableFxRates rates)
    {
        public SellerBooks Plain { get; } = new(rates);
        public SellerBooks Archiving { get; set; } = new(rates);
        public List<LedgerEntry> Stored { get; } = [];
        public int TakenBack { get; private set; }

        public IReadOnlyList<LedgerEntry> History(string orderId, int through) =>
            Stored.Take(through).Where(e => SellerBooks.OrderOf(e.Transfer.TransferId) == orderId).ToArray();

        /// <summary>Runs one operation on both books; the archiving books first take the order back if it is archived.</summary>
        public T Run<T>(string? orderId, DateTimeOffset at, Func<SellerBooks, T> operation, Func<T, IReadOnlyList<Transfer>> applied)
        {
            if (orderId is not null && Archiving.MayBeArchived(orderId))
            {
                var history = History(orderId, Stored.Count);
                Archiving.Rehydrate(orderId, history);
                TakenBack += history.Count > 0 ? 1 : 0;
            }
            T expected, actual;
            try
            {
                expected = operation(Plain);
            }
            catch (Exception plainFailure)
            {
                var failure = Assert.ThrowsAny<Exception>(() => operation(Archiving));
                Assert.Equal(plainFailure.GetType(), failure.GetType());
                return default!;
            }
            actual = operation(Archiving);
            Assert.Equal(applied(expected), applied(actual));
            if (expected is System.Runtime.CompilerServices.ITuple result)
            {
                Assert.Equal(result[0], ((System.Runtime.CompilerServices.ITuple)actual!)[0]); // the outcome beside the transfers
            }
            Stored.AddRange(applied(actual).Select(t => new LedgerEntry(t, at)));
            return actual;
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Books_that_archive_settled_orders_answer_every_operation_as_books_that_keep_everything(int seed)
    {
        var random = new Random(seed);
        var rates = new MovableFxRates();
        var twins = new Twins(rates);
        var orders = new List<(string Id, string Currency)>();
        var repeats = new List<Action>();
        (byte[] Body, int Through)? snapshot = null;
        var archived = 0;
        var restarts = 0;
        string? settlement = null;
        var cycle = TimeSpan.FromDays(random.Next(1, 8));
        var now = T0;
        for (var step = 0; step < 400; step++)
        {
            now += TimeSpan.FromHours(random.Next(0, 44));
            var at = now;
            // Mostly recent orders, now and then one from long ago (late refunds and retries of settled orders).
            var orderId = orders.Count == 0 ? null
                : random.Next(4) == 0 ? orders[random.Next(orders.Count)].Id : orders[Math.Max(0, orders.Count - 1 - random.Next(15))].Id;
            var standing = orderId is null ? null : twins.Plain.Order(orderId);
            switch (random.Next(100))
            {
                case < 20:
                {
                    var randomness = new byte[10];
                    random.NextBytes(randomness);
                    var id = Ulid.NewUlid(at, randomness).ToString();
                    var currency = Currencies[random.Next(Currencies.Length)];
                    var amount = new Money(random.Next(100, currency == "JPY" ? 30_000 : 200_000), currency);
                    orders.Add((id, currency));
                    twins.Run(id, at, b => b.HoldInEscrow(id, amount), t => t);
                    repeats.Add(() => twins.Run(id, at, b => b.HoldInEscrow(id, amount), t => t));
                    break;
                }
                case < 28 when orderId is not null:
                    twins.Run(orderId, at, b => b.VoidEscrow(orderId), t => t);
                    repeats.Add(() => twins.Run(orderId, at, b => b.VoidEscrow(orderId), t => t));
                    break;
                case < 45 when standing is not null:
                {
                    var held = standing.Held;
                    var commission = held * 8 / 100;
                    var c = standing.Currency;
                    var split = new EscrowRelease(orderId!, new Money(commission, c), new Money(0, c), new Money(0, c), null, new Money(held - commission, c));
                    var chosen = settlement;
                    twins.Run(orderId, at, b => b.ReleaseEscrow(split, chosen, at), t => t);
                    repeats.Add(() => twins.Run(split.OrderId, at, b => b.ReleaseEscrow(split, chosen, at), t => t));
                    break;
                }
                case < 65 when standing is not null:
                {
                    var amount = random.Next(3) == 0 ? standing.Refundable + 1 : random.NextInt64(1, Math.Max(2, standing.Refundable + 1));
                    var refund = new LedgerRefund(orderId!, $"r{step}", new Money(Math.Max(1, amount), standing.Currency));
                    var chosen = settlement;
                    twins.Run(orderId, at, b => b.Refund(refund, chosen), r => r.Applied);
                    repeats.Add(() => twins.Run(refund.OrderId, at, b => b.Refund(refund, chosen), r => r.Applied));
                    break;
                }
                case < 78:
                    twins.Run(null, at, b => b.Mature(at, cycle), t => t);
                    break;
                case < 84:
                {
                    var amount = new Money(random.Next(1_000, 400_000), Currencies[random.Next(Currencies.Length)]);
                    var id = $"d{step}";
                    twins.Run(null, at, b => b.FundDeposit(id, amount), r => r.Applied);
                    break;
                }
                case < 88:
                {
                    var currency = Currencies[random.Next(Currencies.Length)];
                    var amount = new Money(Math.Max(1, (twins.Plain.Balance($"seller:available:{currency}")?.Available ?? 0) / 2), currency);
                    var id = $"w{step}";
                    twins.Run(null, at, b => b.Withdraw(id, amount), r => r.Applied);
                    break;
                }
                case < 91:
                    settlement = random.Next(2) == 0 ? null : Currencies[random.Next(Currencies.Length)];
                    break;
                case < 97:
                    // The grain archives only orders whose transfers are all stored; here every applied transfer is.
                    archived += twins.Archiving.Archive(at - KeepFor);
                    if (random.Next(3) == 0)
                    {
                        snapshot = (twins.Archiving.Snapshot(), twins.Stored.Count);
                    }
                    break;
                default:
                    if (snapshot is { } s)
                    {
                        // A restart: the snapshot, the archived orders that later transfers touch taken back from the
                        // transfers it covers, then those transfers replayed.
                        var restored = SellerBooks.Restore(rates, s.Body);
                        var later = twins.Stored.Skip(s.Through).ToArray();
                        foreach (var id in later.Select(e => SellerBooks.OrderOf(e.Transfer.TransferId)).OfType<string>().Distinct().Where(restored.MayBeArchived).ToArray())
                        {
                            restored.Rehydrate(id, twins.History(id, s.Through));
                        }
                        foreach (var (t, when) in later)
                        {
                            restored.Replay(t, when);
                        }
                        twins.Archiving = restored;
                        restarts++;
                    }
                    break;
            }
            if (repeats.Count > 0 && random.Next(3) == 0)
            {
                repeats[random.Next(repeats.Count)]();
            }
            AssertSameBooks(twins, orders);
        }

        Assert.True(archived > 0, "nothing was archived: the history does not test archiving");
        Assert.True(twins.Archiving.Snapshot().Length < twins.Plain.Snapshot().Length);
        Assert.True(twins.Archiving.Size < twins.Plain.Size);
        Assert.True(restarts > 0, "no restart from a snapshot happened");
        Assert.True(twins.TakenBack > 0, "no archived order was taken back");
    }

    [Fact]
    public void A_settled_order_leaves_the_books_and_a_late_refund_takes_it_back_from_its_transfers()
    {
        var rates = new MovableFxRates();
        var books = new SellerBooks(rates);
        var stored = new List<LedgerEntry>();
        void Store(IReadOnlyList<Transfer> applied, DateTimeOffset at) => stored.AddRange(applied.Select(t => new LedgerEntry(t, at)));
        var settled = Ulid.NewUlid(T0).ToString();
        var voided = Ulid.NewUlid(T0.AddMinutes(1)).ToString();
        var open = Ulid.NewUlid(T0.AddMinutes(2)).ToString();
        var recent = Ulid.NewUlid(T0.AddDays(40)).ToString();
        Store(books.HoldInEscrow(settled, new Money(10_000, "USD")), T0);
        Store(books.HoldInEscrow(voided, new Money(5_000, "USD")), T0);
        Store(books.HoldInEscrow(open, new Money(7_000, "USD")), T0);
        var release = new EscrowRelease(settled, new Money(800, "USD"), new Money(0, "USD"), new Money(0, "USD"), null, new Money(9_200, "USD"));
        Store(books.ReleaseEscrow(release, null, T0.AddDays(1)), T0.AddDays(1));
        Store(books.VoidEscrow(voided), T0.AddDays(1));
        Store(books.HoldInEscrow(recent, new Money(3_000, "USD")), T0.AddDays(40));
        Store(books.VoidEscrow(recent), T0.AddDays(40));
        var now = T0.AddDays(45);
        var balances = books.Accounts.ToDictionary();
        var size = books.Snapshot().Length;
        Assert.Equal(1, books.Archive(now - KeepFor)); // the voided order; the released one has not matured yet: still settling
        Assert.Null(books.Order(voided));
        Assert.NotNull(books.Order(settled));
        Store(books.Mature(now, TimeSpan.FromDays(7)), now);
        balances = books.Accounts.ToDictionary();

        Assert.Equal(1, books.Archive(now - KeepFor));

        // The settled and the voided order are gone with their zero escrow accounts; the open hold and the recent order stay.
        Assert.Null(books.Order(settled));
        Assert.Null(books.Order(voided));
        Assert.Null(books.Balance($"escrow:{settled}"));
        Assert.Equal(7_000, books.Order(open)!.Held);
        Assert.NotNull(books.Order(recent));
        Assert.Equal(balances.Where(b => b.Key != $"escrow:{settled}" && b.Key != $"escrow:{voided}").OrderBy(b => b.Key, StringComparer.Ordinal),
            books.Accounts.OrderBy(b => b.Key, StringComparer.Ordinal));
        Assert.True(books.Snapshot().Length < size);
        Assert.True(books.MayBeArchived(settled));
        Assert.False(books.MayBeArchived(recent));
        Assert.False(books.MayBeArchived(Ulid.NewUlid(now).ToString()));

        // A snapshot carries the cut-off, so books restored from it know which missing orders to look for.
        var restored = SellerBooks.Restore(rates, books.Snapshot());
        Assert.True(restored.MayBeArchived(settled));
        Assert.Equal(books.Snapshot(), restored.Snapshot());

        // A late refund: the order comes back from its stored transfers, with what its release booked; the platform gives back
        // 8% of it in commission and the rest is charged to the available balance.
        restored.Rehydrate(settled, stored.Where(e => SellerBooks.OrderOf(e.Transfer.TransferId) == settled).ToArray());
        Assert.Equal(new OrderStanding("USD", 0, 10_000, 0, "USD", new SellerBooksImage.ReleasedShares(800, 0, null, 0, 0)), restored.Order(settled));
        Assert.Empty(restored.ReleaseEscrow(release, null, now));                                 // a retried release is still a no-op
        var (result, applied) = restored.Refund(new LedgerRefund(settled, "late", new Money(2_000, "USD")), null);
        Assert.Equal(LedgerRefundResult.Applied, result);
        Assert.Equal(7_360, restored.Balance("seller:available:USD")!.Posted);
        Assert.Equal(LedgerRefundResult.AlreadyApplied, restored.Refund(new LedgerRefund(settled, "late", new Money(2_000, "USD")), null).Result);
        Assert.Throws<InvalidOperationException>(() => restored.Rehydrate(settled, []));         // it is back: nothing to take back
        Assert.Equal([$"{settled}:refund:late:commission", $"{settled}:refund:late:available"], applied.Select(t => t.TransferId));
    }

    private static void AssertSameBooks(Twins twins, List<(string Id, string Currency)> orders)
    {
        var plain = twins.Plain;
        var archiving = twins.Archiving;
        foreach (var (id, account) in archiving.Accounts)
        {
            Assert.Equal(plain.Accounts[id], account);
        }
        foreach (var (id, account) in plain.Accounts.Where(a => !archiving.Accounts.ContainsKey(a.Key)))
        {
            // Only a settled order's escrow account may be missing, and only while that order is archived.
            Assert.StartsWith("escrow:", id);
            Assert.Equal((0L, 0L, 0L), (account.Posted, account.DebitsPending, account.CreditsPending));
            Assert.True(archiving.MayBeArchived(id["escrow:".Length..]), $"{id} is missing but its order is not archived");
        }
        foreach (var (id, _) in orders)
        {
            if (archiving.Order(id) is { } standing)
            {
                Assert.Equal(plain.Order(id), standing);
            }
            else
            {
                Assert.True(plain.Order(id) is null || archiving.MayBeArchived(id), $"order {id} is missing but not archived");
            }
        }
        Assert.All(archiving.TotalsByCurrency(), totals => Assert.Equal((0L, 0L), totals.Value));
        Assert.Equal(plain.Maturing.ToDictionary(), archiving.Maturing.ToDictionary());
    }
}
