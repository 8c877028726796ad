using Microsoft.Extensions.Logging;
using Orleans.Trade.Common;

namespace Orleans.Trade.Wallets;

/// <summary>
/// A seller's ledger: transfers are checked and applied in memory inside the grain's turn, appended to the transfer table,
/// and answered after the append commits; appends arriving during a write share the next one. Balances are rebuilt from the
/// transfers on activation.
/// </summary>
[Reentrant]
public sealed class SellerLedgerGrain(
    ILedgerStore store,
    TradeClock clock,
    Microsoft.Extensions.Options.IOptions<SettlementOptions> settlement,
    ILogger<SellerLedgerGrain> logger) : Grain, ISellerLedgerGrain, IRemindable
{
    private const string MaturityReminder = "maturity";
    private readonly Ledger _ledger = new(GuardOf);
    private readonly List<LedgerEntry> _unwritten = [];
    /// <summary>Seller-net amounts still pending, by order, with their release time (T+N counts from there).</summary>
    private readonly Dictionary<string, (Money Net, DateTimeOffset ReleasedAt)> _maturing = new(StringComparer.Ordinal);
    private GroupCommit? _commit;

    private string SellerId => this.GetPrimaryKeyString();

    private GroupCommit Commit => _commit ??= new GroupCommit(WritePending, ex =>
    {
        logger.LogError(ex, "Appending to the ledger of seller {SellerId} failed; the activation reloads", SellerId);
        DeactivateOnIdle();
        return new TransientStorageException($"Ledger of seller '{SellerId}' could not store a transfer; nothing was acknowledged, retry.");
    });

    /// <summary>Clearing accounts mirror the outside world and may go negative; everything else holds someone's money.</summary>
    public static AccountGuard GuardOf(string accountId) =>
        accountId.StartsWith("psp:", StringComparison.Ordinal) ? AccountGuard.Open : AccountGuard.MustNotGoNegative;

    public static string Escrow(string orderId) => $"escrow:{orderId}";

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var (transfer, at) in await store.LoadAsync(SellerId, cancellationToken))
        {
            var result = _ledger.Apply(transfer);
            if (result != TransferResult.Applied)
            {
                throw new InvalidOperationException($"Ledger of seller '{SellerId}' does not replay: transfer {transfer.TransferId} gives {result}.");
            }
            Track(transfer, at);
        }
    }

    /// <summary>Keeps the list of seller-net amounts waiting for their settlement day.</summary>
    private void Track(Transfer transfer, DateTimeOffset at)
    {
        var orderId = transfer.TransferId[..Math.Max(0, transfer.TransferId.LastIndexOf(':'))];
        if (transfer.TransferId.EndsWith(":seller-net", StringComparison.Ordinal))
        {
            _maturing[orderId] = (new Money(transfer.Amount, transfer.Currency), at);
        }
        else if (transfer.TransferId.EndsWith(":settle", StringComparison.Ordinal))
        {
            _maturing.Remove(orderId);
        }
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != MaturityReminder)
        {
            return;
        }
        if (_maturing.Count == 0)
        {
            if (await this.GetReminder(MaturityReminder) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }
            return;
        }
        var cycle = TimeSpan.FromDays(await GrainFactory.GetGrain<ISellerAccountGrain>(SellerId).SettlementCycleDays());
        var now = clock.GetUtcNow();
        var due = _maturing.Where(m => m.Value.ReleasedAt + cycle <= now).ToArray();
        if (due.Length > 0)
        {
            await Apply(due.Select(m => new Transfer($"{m.Key}:settle", TransferKind.Posted, $"seller:pending:{m.Value.Net.Currency}",
                $"seller:available:{m.Value.Net.Currency}", m.Value.Net.AmountMinor, m.Value.Net.Currency)).ToArray());
        }
    }

    public async Task<WithdrawalResult> Withdraw(string withdrawalId, Money amount)
    {
        var transfer = new Transfer($"withdrawal:{withdrawalId}", TransferKind.Posted, $"seller:available:{amount.Currency}",
            $"psp:payouts:{amount.Currency}", amount.AmountMinor, amount.Currency);
        Commit.ThrowIfFailed();
        var result = _ledger.Apply(transfer);
        switch (result)
        {
            case TransferResult.Applied:
                _unwritten.Add(new LedgerEntry(transfer, clock.GetUtcNow()));
                await Commit.CommitAsync(changed: true);
                return WithdrawalResult.Applied;
            case TransferResult.AlreadyApplied:
                await Commit.CommitAsync(changed: false);
                return WithdrawalResult.AlreadyApplied;
            case TransferResult.InsufficientFunds:
                return WithdrawalResult.InsufficientFunds;
            default:
                return WithdrawalResult.Refused;
        }
    }

    public Task HoldInEscrow(string orderId, Money amount) =>
        Apply([new Transfer($"{orderId}:escrow", TransferKind.Pending, $"psp:clearing:{amount.Currency}", Escrow(orderId), amount.AmountMinor, amount.Currency)]);

    public Task ReleaseEscrow(EscrowRelease r)
    {
        if (_ledger.Contains($"{r.OrderId}:escrow-post"))
        {
            return Commit.CommitAsync(changed: false); // released before: a retry
        }
        var escrowed = _ledger.PendingAmount($"{r.OrderId}:escrow");
        if (escrowed == 0)
        {
            throw new InvalidOperationException($"Order {r.OrderId} has no escrow to release (never paid, or voided).");
        }
        var currency = r.SellerNet.Currency;
        Money[] legs = [r.Commission, r.LogisticsFee, r.TaxPayable, r.SellerNet];
        if (legs.Any(l => l.Currency != currency || l.AmountMinor < 0) || legs.Sum(l => l.AmountMinor) != escrowed)
        {
            throw new ArgumentException($"The release of order {r.OrderId} must split exactly the {escrowed} held in escrow.");
        }
        var transfers = new List<Transfer>
        {
            new($"{r.OrderId}:escrow-post", TransferKind.PostPending, $"psp:clearing:{currency}", Escrow(r.OrderId), escrowed, currency, $"{r.OrderId}:escrow"),
        };
        void Leg(string name, Money amount, string account)
        {
            if (amount.AmountMinor > 0)
            {
                transfers.Add(new Transfer($"{r.OrderId}:{name}", TransferKind.Posted, Escrow(r.OrderId), account, amount.AmountMinor, currency));
            }
        }
        Leg("commission", r.Commission, $"platform:commission:{currency}");
        Leg("logistics", r.LogisticsFee, $"platform:logistics:{currency}");
        Leg("tax", r.TaxPayable, $"tax:payable:{r.TaxCountry ?? "XX"}:{currency}");
        Leg("seller-net", r.SellerNet, $"seller:pending:{currency}");
        return ApplyAndSchedule(transfers);
    }

    public Task VoidEscrow(string orderId)
    {
        var pending = _ledger.PendingAmount($"{orderId}:escrow");
        var currency = _ledger.Balance(Escrow(orderId))?.Currency;
        return pending == 0 || currency is null
            ? Commit.CommitAsync(changed: false)
            : Apply([new Transfer($"{orderId}:escrow-void", TransferKind.VoidPending, $"psp:clearing:{currency}", Escrow(orderId), 0, currency, $"{orderId}:escrow")]);
    }

    public Task<LedgerRefundResult> Refund(LedgerRefund refund) => throw new NotSupportedException("Ledger refunds are not built yet.");

    public Task FundDeposit(string depositId, Money amount) => throw new NotSupportedException("Seller deposits are not built yet.");

    public async Task<IReadOnlyList<LedgerAccountView>> Balances()
    {
        await Commit.CommitAsync(changed: false);
        return _ledger.Accounts.Values.OrderBy(a => a.AccountId, StringComparer.Ordinal)
            .Select(a => new LedgerAccountView(a.AccountId, a.Currency, a.Posted, a.CreditsPending, a.DebitsPending)).ToArray();
    }

    private async Task ApplyAndSchedule(IReadOnlyList<Transfer> transfers)
    {
        await Apply(transfers);
        if (_maturing.Count > 0)
        {
            var period = settlement.Value.MaturityCheckPeriod;
            await this.RegisterOrUpdateReminder(MaturityReminder, period, period);
        }
    }

    /// <summary>Applies all transfers or none (checked in memory first), then waits for the write that carries them.</summary>
    private Task Apply(IReadOnlyList<Transfer> transfers)
    {
        Commit.ThrowIfFailed();
        var applied = false;
        foreach (var transfer in transfers)
        {
            var result = _ledger.Apply(transfer);
            switch (result)
            {
                case TransferResult.Applied:
                    _unwritten.Add(new LedgerEntry(transfer, clock.GetUtcNow()));
                    Track(transfer, clock.GetUtcNow());
                    applied = true;
                    break;
                case TransferResult.AlreadyApplied:
                    break;
                default:
                    if (transfers.Count > 1 && transfer != transfers[0])
                    {
                        // Earlier legs of this group were applied in memory: the activation must reload to drop them.
                        Commit.Fail(new TransientStorageException($"Ledger of seller '{SellerId}' refused {transfer.TransferId}: {result}."));
                        DeactivateOnIdle();
                    }
                    throw new InvalidOperationException($"Transfer {transfer.TransferId} refused: {result}.");
            }
        }
        return Commit.CommitAsync(applied);
    }

    private async Task WritePending()
    {
        var entries = _unwritten.ToArray();
        _unwritten.Clear();
        await store.AppendAsync(SellerId, entries, CancellationToken.None);
    }
}
