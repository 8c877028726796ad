using Microsoft.Extensions.Logging;
using Orleans.Trade.Common;

namespace Orleans.Trade.Wallets;

/// <summary>
/// A seller's ledger: the money rules are <see cref="SellerBooks"/>'s; this grain checks and applies them in memory inside its
/// turn, appends the new transfers to the transfer table, and answers after the append commits; appends arriving during a
/// write share the next one. Every <see cref="SettlementOptions.LedgerSnapshotEveryTransfers"/> transfers, or a quarter as many
/// as the books hold items if that is more (<see cref="SellerBooks.SnapshotDue"/>), a write also copies the books as they stand
/// with its transfers and, once the transfers are stored, encodes and stores that copy as the ledger's snapshot off the write
/// path: a flash sale's seller holds an escrow per order, and encoding those books inside the write held every payment of the
/// seller for as long as it took. Activation restores the latest snapshot and replays the transfers stored after it.
/// </summary>
[Reentrant]
public sealed class SellerLedgerGrain(
    ILedgerStore store,
    TradeClock clock,
    Orders.IFxRates fxRates,
    Microsoft.Extensions.Options.IOptions<SettlementOptions> settlement,
    ILogger<SellerLedgerGrain> logger) : Grain, ISellerLedgerGrain, IRemindable
{
    private const string MaturityReminder = "maturity";
    private SellerBooks _books = new(fxRates);
    private readonly List<LedgerEntry> _unwritten = [];
    /// <summary>Transfers stored since the last snapshot: what the next activation would replay.</summary>
    private int _sinceSnapshot;
    /// <summary>The snapshot being encoded and stored, if any; one at a time.</summary>
    private Task? _snapshotting;
    private GroupCommit? _commit;

    private string SellerId => this.GetPrimaryKeyString();

    private GroupCommit Commit => _commit ??= new GroupCommit(WritePending, ex =>
    {
        logger.LogError(ex, "Appending to the ledger of seller {SellerId} failed; the activation reloads", SellerId);
        DeactivateOnIdle();
        return new TransientStorageException($"Ledger of seller '{SellerId}' could not store a transfer; nothing was acknowledged, retry.");
    });

    public static AccountGuard GuardOf(string accountId) => SellerBooks.GuardOf(accountId);

    public static string Escrow(string orderId) => SellerBooks.Escrow(orderId);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var stored = await store.LoadAsync(SellerId, cancellationToken);
        if (stored.Snapshot is { } snapshot)
        {
            _books = SellerBooks.Restore(fxRates, snapshot);
        }
        foreach (var (transfer, at) in stored.Entries)
        {
            _books.Replay(transfer, at);
        }
        _sinceSnapshot = stored.Entries.Count;
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != MaturityReminder)
        {
            return;
        }
        if (_books.Maturing.Count == 0)
        {
            if (await this.GetReminder(MaturityReminder) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }
            return;
        }
        var cycle = TimeSpan.FromDays(await Account.SettlementCycleDays());
        await Store(() => _books.Mature(clock.GetUtcNow(), cycle));
    }

    private ISellerAccountGrain Account => GrainFactory.GetGrain<ISellerAccountGrain>(SellerId);

    public async Task<WithdrawalResult> Withdraw(string withdrawalId, Money amount)
    {
        var result = WithdrawalResult.Refused;
        await Store(() =>
        {
            (result, var applied) = _books.Withdraw(withdrawalId, amount);
            return applied;
        });
        return result;
    }

    public Task HoldInEscrow(string orderId, Money amount) => Store(() => _books.HoldInEscrow(orderId, amount));

    public async Task ReleaseEscrow(EscrowRelease r)
    {
        var settlementCurrency = (await Account.Settlement()).Currency; // read before the turn's in-memory step
        await Store(() => _books.ReleaseEscrow(r, settlementCurrency, clock.GetUtcNow()));
        if (_books.Maturing.Count > 0)
        {
            var period = settlement.Value.MaturityCheckPeriod;
            await this.RegisterOrUpdateReminder(MaturityReminder, period, period);
        }
    }

    public Task VoidEscrow(string orderId) => Store(() => _books.VoidEscrow(orderId));

    public async Task<LedgerRefundResult> Refund(LedgerRefund refund)
    {
        var settlementCurrency = (await Account.Settlement()).Currency;
        var result = LedgerRefundResult.ExceedsPaid;
        await Store(() =>
        {
            (result, var applied) = _books.Refund(refund, settlementCurrency);
            return applied;
        });
        return result;
    }

    public async Task FundDeposit(string depositId, Money amount)
    {
        var result = DepositResult.Applied;
        await Store(() =>
        {
            (result, var applied) = _books.FundDeposit(depositId, amount);
            return applied;
        });
        if (result == DepositResult.IdReused)
        {
            throw new ArgumentException($"Deposit id '{depositId}' was used for a different amount or currency; nothing changed.");
        }
    }

    public async Task<IReadOnlyList<LedgerAccountView>> Balances()
    {
        await Commit.CommitAsync(changed: false);
        return _books.Accounts.Values.OrderBy(a => a.AccountId, StringComparer.Ordinal)
            .Select(a => new LedgerAccountView(a.AccountId, a.Currency, a.Posted, a.CreditsPending, a.DebitsPending)).ToArray();
    }

    /// <summary>
    /// Runs one books operation in memory (all or nothing, no await in between), then waits for the write carrying its new
    /// transfers; an operation that changed nothing waits for any write still in flight, so its answer is durable too.
    /// </summary>
    private Task Store(Func<IReadOnlyList<Transfer>> operation)
    {
        Commit.ThrowIfFailed();
        var applied = operation();
        var now = clock.GetUtcNow();
        foreach (var transfer in applied)
        {
            _unwritten.Add(new LedgerEntry(transfer, now));
        }
        return Commit.CommitAsync(applied.Count > 0);
    }

    private async Task WritePending()
    {
        var entries = _unwritten.ToArray();
        _unwritten.Clear();
        // Copied before the await: the books now are exactly the stored transfers plus these entries.
        var capture = _snapshotting is not { IsCompleted: false }
            && SellerBooks.SnapshotDue(_sinceSnapshot + entries.Length, _books.Size, settlement.Value.LedgerSnapshotEveryTransfers)
            ? _books.CaptureState()
            : null;
        var lastEntryNo = await store.AppendAsync(SellerId, entries, CancellationToken.None);
        _sinceSnapshot += entries.Length;
        if (capture is not null)
        {
            _snapshotting = StoreSnapshot(capture, lastEntryNo, _sinceSnapshot);
            _sinceSnapshot = 0;
        }
    }

    /// <summary>
    /// Encodes the copy on the thread pool and stores it; the writes go on meanwhile. If it is not stored, the transfers it
    /// covered count towards the next one again (activation replays them until then, as before).
    /// </summary>
    private async Task StoreSnapshot(SellerBooksCapture capture, long throughEntryNo, int covers)
    {
        try
        {
            var body = await Task.Run(capture.ToSnapshot);
            await store.SaveSnapshotAsync(SellerId, throughEntryNo, clock.GetUtcNow(), body, CancellationToken.None);
        }
        catch (Exception ex)
        {
            _sinceSnapshot += covers;
            logger.LogWarning(ex, "The ledger snapshot of seller {SellerId} through entry {EntryNo} was not stored; the next write tries again",
                SellerId, throughEntryNo);
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // A snapshot still in flight finishes (or is given up with the deactivation's time) before the activation goes.
        if (_snapshotting is { IsCompleted: false } snapshotting)
        {
            try
            {
                await snapshotting.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                logger.LogWarning("The ledger snapshot of seller {SellerId} was still being stored when its activation left", SellerId);
            }
        }
    }
}
