using Orleans.Trade.Wallets;

namespace Orleans.Trade.Tests.Wallets;

public sealed class LedgerTests
{
    private static AccountGuard GuardOf(string account) => account.StartsWith("psp:", StringComparison.Ordinal) ? AccountGuard.Open : AccountGuard.MustNotGoNegative;

    private static Ledger NewLedger() => new(GuardOf);

    [Fact]
    public void A_payment_held_in_escrow_is_posted_to_the_seller_or_voided_back()
    {
        var ledger = NewLedger();
        Assert.Equal(TransferResult.Applied, ledger.Apply(new Transfer("pay-1", TransferKind.Pending, "psp:clearing", "seller:s1:pending", 10_000, "USD")));
        Assert.Equal(0, ledger.Balance("seller:s1:pending")!.Posted);
        Assert.Equal(10_000, ledger.PendingAmount("pay-1"));

        Assert.Equal(TransferResult.Applied, ledger.Apply(new Transfer("post-1", TransferKind.PostPending, "psp:clearing", "seller:s1:pending", 9_000, "USD", "pay-1")));
        Assert.Equal(9_000, ledger.Balance("seller:s1:pending")!.Posted);
        Assert.Equal(0, ledger.PendingAmount("pay-1"));
        Assert.Equal(TransferResult.PendingAlreadyClosed, ledger.Apply(new Transfer("void-1", TransferKind.VoidPending, "psp:clearing", "seller:s1:pending", 0, "USD", "pay-1")));
        Assert.Equal((0L, 0L), ledger.TotalsByCurrency()["USD"]);
    }

    [Fact]
    public void Guarded_accounts_never_go_negative_and_ids_make_retries_no_ops()
    {
        var ledger = NewLedger();
        ledger.Apply(new Transfer("in", TransferKind.Posted, "psp:clearing", "seller:s1:available", 500, "EUR"));

        Assert.Equal(TransferResult.InsufficientFunds, ledger.Apply(new Transfer("out", TransferKind.Posted, "seller:s1:available", "psp:payouts", 501, "EUR")));
        Assert.Equal(TransferResult.Applied, ledger.Apply(new Transfer("hold", TransferKind.Pending, "seller:s1:available", "psp:payouts", 400, "EUR")));
        Assert.Equal(TransferResult.InsufficientFunds, ledger.Apply(new Transfer("out2", TransferKind.Posted, "seller:s1:available", "psp:payouts", 101, "EUR")));
        Assert.Equal(TransferResult.AlreadyApplied, ledger.Apply(new Transfer("in", TransferKind.Posted, "psp:clearing", "seller:s1:available", 500, "EUR")));
        Assert.Equal(TransferResult.IdReused, ledger.Apply(new Transfer("in", TransferKind.Posted, "psp:clearing", "seller:s1:available", 600, "EUR")));
        Assert.Equal(TransferResult.CurrencyMismatch, ledger.Apply(new Transfer("usd", TransferKind.Posted, "psp:clearing", "seller:s1:available", 1, "USD")));
        Assert.Equal(TransferResult.InvalidAmount, ledger.Apply(new Transfer("zero", TransferKind.Posted, "psp:clearing", "seller:s1:available", 0, "EUR")));
        Assert.Equal(100, ledger.Balance("seller:s1:available")!.Available);
    }

    /// <summary>
    /// Simulation: random sequences of posted, pending, post, void and replayed transfers over a few accounts. After every
    /// step each currency sums to zero, no guarded account is below zero, a replay changes nothing, and the balances equal
    /// what an independent recount of the applied transfers gives.
    /// </summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public void Random_sequences_keep_every_invariant(int seed)
    {
        var random = new Random(seed);
        string[] accounts = ["psp:clearing", "escrow:o1", "escrow:o2", "seller:s1:pending", "seller:s1:available", "seller:s1:deposit", "platform:commission", "tax:payable:DE"];
        string[] currencies = ["USD", "EUR"];
        var ledger = NewLedger();
        var applied = new List<Transfer>();
        var pendings = new List<Transfer>();
        for (var step = 0; step < 400; step++)
        {
            var currency = currencies[random.Next(currencies.Length)];
            string Account() => accounts[random.Next(accounts.Length)] + ":" + currency;
            Transfer transfer = random.Next(10) switch
            {
                < 3 => new Transfer($"t{step}", TransferKind.Posted, Account(), Account(), random.Next(-5, 2_000), currency),
                < 5 => new Transfer($"t{step}", TransferKind.Pending, Account(), Account(), random.Next(1, 2_000), currency),
                < 7 when pendings.Count > 0 => PostOrVoid(pendings[random.Next(pendings.Count)], step, random),
                < 9 when applied.Count > 0 => applied[random.Next(applied.Count)],                           // exact replay
                _ when applied.Count > 0 => applied[random.Next(applied.Count)] with { Amount = 7 },           // id reuse
                _ => new Transfer($"t{step}", TransferKind.Posted, "psp:clearing:" + currency, Account(), random.Next(1, 5_000), currency),
            };
            var before = ledger.Accounts.ToDictionary(a => a.Key, a => a.Value);
            var result = ledger.Apply(transfer);

            if (result == TransferResult.Applied)
            {
                applied.Add(transfer);
                if (transfer.Kind == TransferKind.Pending) pendings.Add(transfer);
            }
            else
            {
                Assert.Equal(before, ledger.Accounts.ToDictionary(a => a.Key, a => a.Value)); // a refused or repeated transfer changes nothing
            }
            Assert.All(ledger.TotalsByCurrency().Values, totals => Assert.Equal((0L, 0L), totals));
            Assert.All(ledger.Accounts.Values.Where(a => a.Guard == AccountGuard.MustNotGoNegative), a => Assert.True(a.Available >= 0, a.ToString()));
        }
        AssertMatchesRecount(ledger, applied);
    }

    public static IEnumerable<object[]> Seeds() => Enumerable.Range(1, 60).Select(seed => new object[] { seed });

    private static Transfer PostOrVoid(Transfer pending, int step, Random random) => random.Next(3) switch
    {
        0 => new Transfer($"t{step}", TransferKind.VoidPending, pending.DebitAccount, pending.CreditAccount, 0, pending.Currency, pending.TransferId),
        1 => new Transfer($"t{step}", TransferKind.PostPending, pending.DebitAccount, pending.CreditAccount, pending.Amount, pending.Currency, pending.TransferId),
        _ => new Transfer($"t{step}", TransferKind.PostPending, pending.DebitAccount, pending.CreditAccount, random.Next(1, (int)pending.Amount + 50), pending.Currency, pending.TransferId),
    };

    private static void AssertMatchesRecount(Ledger ledger, IReadOnlyList<Transfer> applied)
    {
        var closed = applied.Where(t => t.PendingId is not null).Select(t => t.PendingId!).ToHashSet();
        var posted = new Dictionary<string, long>();
        var pending = new Dictionary<string, long>();
        void Add(Dictionary<string, long> into, string account, long amount) => into[account] = into.GetValueOrDefault(account) + amount;
        foreach (var t in applied)
        {
            var (amount, target) = t.Kind switch
            {
                TransferKind.Posted or TransferKind.PostPending => (t.Amount, posted),
                TransferKind.Pending when !closed.Contains(t.TransferId) => (t.Amount, pending),
                _ => (0L, posted),
            };
            Add(target, t.CreditAccount, amount);
            Add(target, t.DebitAccount, -amount);
        }
        foreach (var account in ledger.Accounts.Values)
        {
            Assert.Equal(posted.GetValueOrDefault(account.AccountId), account.Posted);
            Assert.Equal(pending.GetValueOrDefault(account.AccountId), account.CreditsPending - account.DebitsPending);
        }
    }
}
