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
/// <para>Settled orders older than <see cref="SettlementOptions.LedgerArchiveOrdersAfter"/> are archived (<see cref="SellerBooks.Archive"/>)
/// at activation and then once per <see cref="SettlementOptions.LedgerArchivePassEvery"/>, only ever orders whose transfers are all
/// stored, and the next snapshot leaves them out; an operation on an archived order first takes it back from its stored transfers.
/// So a seller's books hold its open orders and recent ones, not every order it ever sold.</para>
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
    /// <summary>Orders were archived since the last snapshot: the next write stores one without them.</summary>
    private bool _snapshotWanted;
    /// <summary>The maturity reminder is known to exist (registered or seen by this activation).</summary>
    private bool _maturityReminderKnown;
    /// <summary>The ledger's last stored entry number: what the books in memory cover when no write is pending.</summary>
    private long _lastEntryNo;
    /// <summary>The ledger's head version the books in memory were loaded at or last appended: what the next append names.</summary>
    private long _version;
    private DateTimeOffset _nextArchivePass;
    /// <summary>Orders with an operation under way (taken back, maybe awaiting something, not yet applied): never archived.</summary>
    private readonly Dictionary<string, int> _working = new(StringComparer.Ordinal);
    private GroupCommit? _commit;

    private string SellerId => this.GetPrimaryKeyString();

    private GroupCommit Commit => _commit ??= new GroupCommit(WritePending, ex =>
    {
        if (ex is LedgerVersionConflictException)
        {
            // Two activations of this ledger (a partition or a membership change): the other one appended first. These books
            // miss its transfers, so nothing computed from them may be stored; the next activation loads both.
            logger.LogWarning("The ledger of seller {SellerId} was appended to by another activation since version {Version}; this one's append was refused and it reloads",
                SellerId, _version);
        }
        else
        {
            logger.LogError(ex, "Appending to the ledger of seller {SellerId} failed; the activation reloads", SellerId);
        }
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
        // A transfer stored after the snapshot may be of an order the snapshot had archived (a late refund): the order is taken
        // back first, from its transfers the snapshot covers.
        var archived = stored.Entries.Select(e => SellerBooks.OrderOf(e.Transfer.TransferId)).OfType<string>()
            .Distinct(StringComparer.Ordinal).Where(_books.MayBeArchived).ToArray();
        foreach (var orderId in archived)
        {
            _books.Rehydrate(orderId, await store.LoadOrderAsync(SellerId, orderId, stored.SnapshotThrough, cancellationToken));
        }
        foreach (var (transfer, at) in stored.Entries)
        {
            _books.Replay(transfer, at);
        }
        _sinceSnapshot = stored.Entries.Count;
        _lastEntryNo = stored.LastEntryNo;
        _version = stored.Version;
        ArchiveWhileIdle();
        if (_books.Maturing.Count > 0)
        {
            // Money waiting to mature needs its reminder; one lost (or never registered by a crash) is put back here.
            await EnsureMaturityReminder();
        }
    }

    private bool ArchivePassDue => settlement.Value.LedgerArchiveEnabled && clock.GetUtcNow() >= _nextArchivePass;

    /// <summary>
    /// Archives settled orders (see <see cref="SellerBooks.Archive"/>), keeping <paramref name="unstored"/> (orders with transfers
    /// not stored yet) and the orders an operation is working on. Answers how many were archived.
    /// </summary>
    private int ArchiveSettledOrders(IEnumerable<string> unstored)
    {
        var now = clock.GetUtcNow();
        _nextArchivePass = now + settlement.Value.LedgerArchivePassEvery;
        var except = new HashSet<string>(unstored, StringComparer.Ordinal);
        except.UnionWith(_working.Keys);
        var archived = _books.Archive(now - settlement.Value.LedgerArchiveOrdersAfter, except);
        if (archived > 0)
        {
            _snapshotWanted = true;
            logger.LogInformation("Seller {SellerId}'s ledger archived {Archived} settled orders; {Kept} stay in memory", SellerId, archived, _books.OrderCount);
        }
        return archived;
    }

    /// <summary>
    /// With no write pending the books are exactly the stored transfers, so an archiving pass may run now and its snapshot be
    /// stored at once (otherwise the next write does both).
    /// </summary>
    private void ArchiveWhileIdle()
    {
        // A failed write leaves the books ahead of storage (the activation is being dropped): nothing of them may be stored.
        if (!ArchivePassDue || _unwritten.Count > 0 || _commit is { IsIdle: false } or { IsFailed: true }
            || ArchiveSettledOrders(unstored: []) == 0 || _snapshotting is { IsCompleted: false })
        {
            return;
        }
        _snapshotWanted = false;
        _snapshotting = StoreSnapshot(_books.CaptureState(), _lastEntryNo, _sinceSnapshot);
        _sinceSnapshot = 0;
    }

    /// <summary>
    /// Runs an operation on one order: takes the order back first if it is archived, and keeps it from being archived until the
    /// operation is done (it may await between taking back and applying, and a pass meanwhile would archive it again). An
    /// archived order's transfers are all stored: only such orders are archived, and nothing is done to one before it is back;
    /// a call for the same order that took it back meanwhile leaves nothing to do.
    /// </summary>
    private async Task<T> OnOrder<T>(string orderId, Func<Task<T>> operation)
    {
        System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_working, orderId, out _)++;
        try
        {
            if (_books.MayBeArchived(orderId))
            {
                var history = await store.LoadOrderAsync(SellerId, orderId, long.MaxValue, CancellationToken.None);
                if (_books.MayBeArchived(orderId))
                {
                    _books.Rehydrate(orderId, history);
                }
            }
            return await operation();
        }
        finally
        {
            if (--System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrNullRef(_working, orderId) == 0)
            {
                _working.Remove(orderId);
            }
        }
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != MaturityReminder)
        {
            return;
        }
        ArchiveWhileIdle();
        if (_books.Maturing.Count == 0)
        {
            // The grain is reentrant: a release may come in during these awaits, and it must find its reminder in place.
            if (await this.GetReminder(MaturityReminder) is { } reminder && _books.Maturing.Count == 0)
            {
                await this.UnregisterReminder(reminder);
                // A release during the unregistering may have seen the reminder still there and taken it as known.
                _maturityReminderKnown = false;
                if (_books.Maturing.Count > 0)
                {
                    await EnsureMaturityReminder();
                }
            }
            return;
        }
        var cycles = await Account.SettlementCycles();
        await Store(() => _books.Mature(clock.GetUtcNow(), cycles.At));
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

    public Task HoldInEscrow(string orderId, Money amount) => OnOrder(orderId, async () =>
    {
        await Store(() => _books.HoldInEscrow(orderId, amount));
        return true;
    });

    public Task ReleaseEscrow(EscrowRelease r) => OnOrder(r.OrderId, async () =>
    {
        var settlementCurrency = (await Account.Settlement()).Currency; // read before the turn's in-memory step
        await Store(() => _books.ReleaseEscrow(r, settlementCurrency, clock.GetUtcNow()));
        if (_books.Maturing.Count > 0)
        {
            await EnsureMaturityReminder();
        }
        return true;
    });

    /// <summary>
    /// Registers the maturity reminder only if it is missing: registering it again moves its first tick a whole period on, so a
    /// seller with a release more often than once a period would never see pending money mature.
    /// </summary>
    private async Task EnsureMaturityReminder()
    {
        if (_maturityReminderKnown)
        {
            return;
        }
        if (await this.GetReminder(MaturityReminder) is null)
        {
            var period = settlement.Value.MaturityCheckPeriod;
            await this.RegisterOrUpdateReminder(MaturityReminder, period, period);
        }
        _maturityReminderKnown = true;
    }

    /// <summary>An archived order holds nothing in escrow, so voiding it is a no-op without taking it back.</summary>
    public Task VoidEscrow(string orderId) => Store(() => _books.VoidEscrow(orderId));

    public Task<LedgerRefundResult> Refund(LedgerRefund refund) => OnOrder(refund.OrderId, async () =>
    {
        if (_books.SplitUnknown(refund.OrderId))
        {
            // Released before the books kept the commission and tax per order (an older snapshot): its transfers say them.
            _books.LearnSplit(refund.OrderId, await store.LoadOrderAsync(SellerId, refund.OrderId, long.MaxValue, CancellationToken.None));
        }
        var settlementCurrency = (await Account.Settlement()).Currency;
        var result = LedgerRefundResult.ExceedsPaid;
        await Store(() =>
        {
            (result, var applied) = _books.Refund(refund, settlementCurrency);
            return applied;
        });
        return result;
    });

    public Task<LedgerCompensationResult> Compensate(LedgerCompensation compensation) => OnOrder(compensation.OrderId, async () =>
    {
        var settlementCurrency = (await Account.Settlement()).Currency;
        var result = new LedgerCompensationResult(LedgerCompensationStatus.UnknownOrder);
        await Store(() =>
        {
            (result, var applied) = _books.Compensate(compensation, settlementCurrency);
            return applied;
        });
        return result;
    });

    public Task<LedgerCompensationResult> QuoteCompensation(LedgerCompensation compensation) => OnOrder(compensation.OrderId, async () =>
    {
        var settlementCurrency = (await Account.Settlement()).Currency;
        // After any write in flight, so the balances quoted are durable ones.
        await Commit.CommitAsync(changed: false);
        return _books.QuoteCompensation(compensation, settlementCurrency);
    });

    public Task<LedgerCompensationResult> ChargeFee(LedgerFee fee) => OnOrder(fee.OrderId, async () =>
    {
        var settlementCurrency = (await Account.Settlement()).Currency;
        var result = new LedgerCompensationResult(LedgerCompensationStatus.UnknownOrder);
        await Store(() =>
        {
            (result, var applied) = _books.ChargeFee(fee, settlementCurrency);
            return applied;
        });
        return result;
    });

    public Task<LedgerCompensationResult> QuoteFee(LedgerFee fee) => OnOrder(fee.OrderId, async () =>
    {
        var settlementCurrency = (await Account.Settlement()).Currency;
        // After any write in flight, so the balances quoted are durable ones.
        await Commit.CommitAsync(changed: false);
        return _books.QuoteFee(fee, settlementCurrency);
    });

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

    public async Task<bool> HasWithdrawal(string withdrawalId)
    {
        await Commit.CommitAsync(changed: false);
        return _books.HasWithdrawal(withdrawalId);
    }

    public async Task<SellerLedgerView> View(string? escrowCursor, int escrowLimit)
    {
        await Commit.CommitAsync(changed: false);
        return _books.View(escrowCursor, escrowLimit);
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
        // Every earlier write is stored: of all orders, only those of these entries have transfers not stored yet.
        if (ArchivePassDue)
        {
            ArchiveSettledOrders(entries.Select(e => SellerBooks.OrderOf(e.Transfer.TransferId)).OfType<string>());
        }
        // Copied before the await: the books now are exactly the stored transfers plus these entries.
        var capture = _snapshotting is not { IsCompleted: false }
            && (_snapshotWanted || SellerBooks.SnapshotDue(_sinceSnapshot + entries.Length, _books.Size, settlement.Value.LedgerSnapshotEveryTransfers))
            ? _books.CaptureState()
            : null;
        if (capture is not null)
        {
            _snapshotWanted = false;
        }
        var (lastEntryNo, version) = await store.AppendAsync(SellerId, _version, entries, CancellationToken.None);
        _lastEntryNo = lastEntryNo;
        _version = version;
        _sinceSnapshot += entries.Length;
        if (capture is not null)
        {
            _snapshotting = StoreSnapshot(capture, lastEntryNo, _sinceSnapshot);
            _sinceSnapshot = 0;
        }
    }

    /// <summary>
    /// Encodes the copy on the thread pool and stores it; the writes go on meanwhile. If it is not stored, the transfers it
    /// covered count towards the next one again (activation replays them until then, as before), and the next write stores one
    /// (the failed one may have been the only one to leave archived orders out).
    /// </summary>
    private async Task StoreSnapshot(SellerBooksCapture capture, long throughEntryNo, int covers)
    {
        try
        {
            var binary = settlement.Value.LedgerBinarySnapshots;
            var body = await Task.Run(() => binary ? capture.ToSnapshot() : capture.ToJsonSnapshot());
            await store.SaveSnapshotAsync(SellerId, throughEntryNo, clock.GetUtcNow(), body, CancellationToken.None);
        }
        catch (Exception ex)
        {
            _sinceSnapshot += covers;
            _snapshotWanted = true;
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
