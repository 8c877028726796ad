using Orleans.Trade.Common;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Wallets;

public enum DepositResult { Applied, AlreadyApplied, IdReused }

/// <summary>Where one order's money stands in the seller's books, in the order's currency.</summary>
/// <param name="Held">Still in escrow (pending): what was paid less refunds before release; 0 once released or voided.</param>
/// <param name="Released">What the release split, or null before release.</param>
/// <param name="SettledCurrency">The currency the seller's net was paid in at release (the settlement currency then).</param>
/// <param name="Split">The commission and tax the release booked and what refunds after release took back of them.</param>
public sealed record OrderStanding(string Currency, long Held, long? Released, long RefundedAfterRelease, string? SettledCurrency,
    SellerBooksImage.ReleasedShares? Split = null)
{
    /// <summary>What the order may still give back: the escrow, or what was released less the refunds after release.</summary>
    public long Refundable => Released is { } released ? released - RefundedAfterRelease : Held;
}

/// <summary>What <see cref="SellerBooks.Snapshot"/> stores.</summary>
/// <param name="ArchivedBefore">
/// Orders created before this time may have been archived (<see cref="SellerBooks.Archive"/>): missing from these books, they are
/// taken back from their stored transfers. Null: nothing was ever archived.
/// </param>
public sealed record SellerBooksImage(
    LedgerImage Ledger,
    IReadOnlyList<SellerBooksImage.OrderImage> Orders,
    IReadOnlyList<SellerBooksImage.MaturingImage> Maturing,
    DateTimeOffset? ArchivedBefore = null)
{
    /// <param name="Split">What the release gave the platform and the tax authority (null before release, and for orders released
    /// before snapshots kept it).</param>
    public sealed record OrderImage(string OrderId, string Currency, string? HoldId, long? Released, long RefundedAfterRelease, string? SettledCurrency,
        IReadOnlyList<string> RefundIds, ReleasedShares? Split = null);

    /// <summary>
    /// The commission and tax an order's release booked (the tax in <paramref name="TaxAccount"/>), and how much of each its refunds
    /// after release have taken back.
    /// </summary>
    public sealed record ReleasedShares(long Commission, long Tax, string? TaxAccount, long CommissionReturned, long TaxReturned);

    public sealed record MaturingImage(string OrderId, Money Net, DateTimeOffset ReleasedAt);
}

/// <summary>
/// The money rules of one seller's books (R-ROLE-1, R-SET-1..3), over a double-entry <see cref="Ledger"/>. Pure: no I/O and no
/// Orleans; the grain stores what each operation returns. Every operation is all or nothing and makes transfers with fixed
/// ids derived from the order, refund, withdrawal or deposit id, so doing it again applies nothing and returns no transfers.
/// <para>Accounts: <c>escrow:{order}</c> (order currency); <c>seller:pending|available|deposit:{cur}</c> (settlement
/// currency); <c>platform:*</c>, <c>tax:payable:*</c>; and the open accounts mirroring the outside world, which may go
/// negative: <c>psp:clearing|refunds|payouts|deposits:{cur}</c> and the FX clearing accounts <c>fx:conversion:{cur}</c>.</para>
/// The state besides the ledger (open hold per order, amounts released and refunded, the maturing list) is derived from the
/// transfers alone, so <see cref="Replay"/> of the stored transfers rebuilds exactly these books.
/// <para>Settled orders are archived (<see cref="Archive"/>): a seller's books would otherwise keep every order it ever sold, in
/// memory and in every snapshot. An archived order is taken back from its stored transfers (<see cref="Rehydrate"/>) before an
/// operation on it, so archiving changes no answer, only what the books keep at hand.</para>
/// </summary>
public sealed class SellerBooks(IFxRates rates)
{
    internal static readonly System.Text.Json.JsonSerializerOptions SnapshotJson = new(System.Text.Json.JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    private readonly Ledger _ledger = new(GuardOf);
    private readonly Dictionary<string, OrderMoney> _orders = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (Money Net, DateTimeOffset ReleasedAt)> _maturing = new(StringComparer.Ordinal);
    private DateTimeOffset? _archivedBefore;

    /// <summary>Books for taking one archived order back: its transfers replay alone, so no account is guarded.</summary>
    private SellerBooks(IFxRates rates, Func<string, AccountGuard> guardOf) : this(rates) => _ledger = new Ledger(guardOf);

    private sealed class OrderMoney(string currency)
    {
        public string Currency { get; } = currency;
        public string? HoldId { get; set; }
        public long? Released { get; set; }
        public long RefundedAfterRelease { get; set; }
        public string? SettledCurrency { get; set; }
        /// <summary>
        /// The commission and tax the release booked and what refunds after release took back of each; null before release, and
        /// for an order released before the books kept these (restored from an older snapshot): its refunds take nothing back.
        /// </summary>
        public SellerBooksImage.ReleasedShares? Split { get; set; }
        // Most orders are never refunded, and a seller's books hold every order: the set is made at the first refund.
        private HashSet<string>? _refundIds;

        public IReadOnlyCollection<string> RefundIds => (IReadOnlyCollection<string>?)_refundIds ?? [];

        public bool HasRefund(string refundId) => _refundIds?.Contains(refundId) == true;

        public void AddRefund(string refundId) => (_refundIds ??= new(StringComparer.Ordinal)).Add(refundId);
    }

    /// <summary>
    /// The order a transfer belongs to: the id's first part (<c>{order}:escrow</c>, <c>{order}:refund:{refund}:void</c>, ...), or
    /// null for the seller's own withdrawals and deposits.
    /// </summary>
    public static string? OrderOf(string transferId)
    {
        var colon = transferId.IndexOf(':', StringComparison.Ordinal);
        var first = colon < 0 ? transferId : transferId[..colon];
        return first is "withdrawal" or "deposit" ? null : first;
    }

    /// <summary>When an order was created, read from its id (a ULID, minted with the business time); null for any other id.</summary>
    public static DateTimeOffset? CreatedAt(string orderId) => orderId.Length == 26 && Ulid.TryParse(orderId, out var ulid) ? ulid.Time : null;

    /// <summary>Orders created before this time may be archived (see <see cref="Archive"/>); null until the first is.</summary>
    public DateTimeOffset? ArchivedBefore => _archivedBefore;

    /// <summary>Orders held in memory (archived ones are not).</summary>
    public int OrderCount => _orders.Count;

    /// <summary>
    /// Archives every order created before <paramref name="createdBefore"/> (by its ULID; orders with other ids are kept) whose
    /// money is settled: nothing held in escrow, nothing waiting to mature, its escrow account at zero. Its escrow account, its
    /// transfers (or their fingerprints) and its standing leave memory; balances of every other account, and so every total, stay
    /// as they are. Orders in <paramref name="except"/> are kept (the grain passes those whose transfers are not stored yet: an
    /// archived order is taken back from storage). Answers how many were archived.
    /// </summary>
    public int Archive(DateTimeOffset createdBefore, IReadOnlySet<string>? except = null)
    {
        var archived = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (orderId, order) in _orders)
        {
            if (order.HoldId is null && CreatedAt(orderId) < createdBefore && except?.Contains(orderId) != true && !_maturing.ContainsKey(orderId)
                && _ledger.Balance(Escrow(orderId)) is null or { Posted: 0, DebitsPending: 0, CreditsPending: 0 })
            {
                archived.Add(orderId);
            }
        }
        if (archived.Count == 0)
        {
            return 0;
        }
        var byPrefix = archived.GetAlternateLookup<ReadOnlySpan<char>>();
        _ledger.Forget(id => id.IndexOf(':', StringComparison.Ordinal) is > 0 and var colon && byPrefix.Contains(id.AsSpan(0, colon)),
            archived.Select(Escrow).ToArray());
        foreach (var orderId in archived)
        {
            _orders.Remove(orderId);
        }
        if (_archivedBefore is null || createdBefore > _archivedBefore)
        {
            _archivedBefore = createdBefore;
        }
        return archived.Count;
    }

    /// <summary>
    /// Whether <paramref name="orderId"/> may be an archived order: these books do not hold it, and it was created before the
    /// latest archiving's cut-off. Such an order is taken back with <see cref="Rehydrate"/> before any operation on it.
    /// </summary>
    public bool MayBeArchived(string orderId) =>
        _archivedBefore is { } before && !_orders.ContainsKey(orderId) && CreatedAt(orderId) < before;

    /// <summary>
    /// Takes an archived order back from its stored transfers (<paramref name="history"/>, in the order stored; none: it was never
    /// in these books). They are replayed alone, and only what is the order's own joins these books (its standing, escrow account,
    /// transfers): the shared accounts hold them already.
    /// </summary>
    public void Rehydrate(string orderId, IReadOnlyList<LedgerEntry> history)
    {
        if (!MayBeArchived(orderId))
        {
            throw new InvalidOperationException($"Order {orderId} is not archived in these books; it is not taken back.");
        }
        var scope = new SellerBooks(rates, _ => AccountGuard.Open);
        foreach (var (transfer, at) in history)
        {
            if (OrderOf(transfer.TransferId) != orderId)
            {
                throw new ArgumentException($"Transfer {transfer.TransferId} is not order {orderId}'s.", nameof(history));
            }
            scope.Replay(transfer, at);
        }
        if (!scope._orders.TryGetValue(orderId, out var order))
        {
            return;
        }
        if (scope._maturing.Count > 0 || order.HoldId is not null)
        {
            throw new InvalidOperationException($"Order {orderId}'s stored transfers leave money held or maturing: it cannot have been archived.");
        }
        _ledger.Adopt(scope._ledger, [Escrow(orderId)]);
        _orders[orderId] = order;
    }

    /// <summary>
    /// Whether the order was released without these books knowing what its release booked in commission and tax: books restored
    /// from a snapshot written before they kept it (SBK1, or the JSON form of an older release). A refund after release takes
    /// it from the order's stored transfers first (<see cref="LearnSplit"/>).
    /// </summary>
    public bool SplitUnknown(string orderId) => _orders.TryGetValue(orderId, out var order) && order.Released is not null && order.Split is null;

    /// <summary>
    /// Takes what the order's release booked, and what its refunds after release took back, from its stored transfers
    /// (<paramref name="history"/>, in the order stored). Kept only if they account for every refund these books know of (one
    /// applied but not stored yet leaves it unknown, and that refund takes nothing back, as before).
    /// </summary>
    public void LearnSplit(string orderId, IReadOnlyList<LedgerEntry> history)
    {
        if (!SplitUnknown(orderId))
        {
            return;
        }
        var scope = new SellerBooks(rates, _ => AccountGuard.Open);
        foreach (var (transfer, at) in history)
        {
            if (OrderOf(transfer.TransferId) != orderId)
            {
                throw new ArgumentException($"Transfer {transfer.TransferId} is not order {orderId}'s.", nameof(history));
            }
            scope.Replay(transfer, at);
        }
        var order = _orders[orderId];
        if (scope._orders.GetValueOrDefault(orderId) is { Split: { } split } stored && stored.RefundedAfterRelease == order.RefundedAfterRelease
            && stored.Released == order.Released)
        {
            order.Split = split;
        }
    }

    /// <summary>Clearing accounts mirror the outside world and may go negative; everything else holds someone's money.</summary>
    public static AccountGuard GuardOf(string accountId) =>
        accountId.StartsWith("psp:", StringComparison.Ordinal) || accountId.StartsWith("fx:", StringComparison.Ordinal)
            ? AccountGuard.Open
            : AccountGuard.MustNotGoNegative;

    public static string Escrow(string orderId) => $"escrow:{orderId}";

    public IReadOnlyDictionary<string, AccountBalance> Accounts => _ledger.Accounts;

    public AccountBalance? Balance(string accountId) => _ledger.Balance(accountId);

    public IReadOnlyDictionary<string, (long Posted, long Pending)> TotalsByCurrency() => _ledger.TotalsByCurrency();

    /// <summary>
    /// The books for the ledger endpoint: every account but the order escrows (a handful per currency), the escrow accounts
    /// after <paramref name="escrowCursor"/> in id order, at most <paramref name="escrowLimit"/>, and over all escrow accounts
    /// how many there are and what they hold per currency. One pass over the accounts, keeping only the page's worth: a flash
    /// sale's seller holds an escrow per paid order, and sorting them all on every read would hold the grain's turn.
    /// </summary>
    public SellerLedgerView View(string? escrowCursor, int escrowLimit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(escrowLimit, 1);
        var others = new List<AccountBalance>();
        var held = new Dictionary<string, (long Amount, int Orders)>(StringComparer.Ordinal);
        var escrows = 0;
        // The smallest ids after the cursor, one more than the page to know whether another page follows; largest on top.
        var page = new PriorityQueue<AccountBalance, string>(Comparer<string>.Create((a, b) => string.CompareOrdinal(b, a)));
        foreach (var account in _ledger.Accounts.Values)
        {
            if (!account.AccountId.StartsWith("escrow:", StringComparison.Ordinal))
            {
                others.Add(account);
                continue;
            }
            escrows++;
            if (account.CreditsPending > 0)
            {
                ref var sum = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(held, account.Currency, out _);
                sum = (sum.Amount + account.CreditsPending, sum.Orders + 1);
            }
            if (escrowCursor is not null && string.CompareOrdinal(account.AccountId, escrowCursor) <= 0)
            {
                continue;
            }
            if (page.Count <= escrowLimit)
            {
                page.Enqueue(account, account.AccountId);
            }
            else if (page.TryPeek(out _, out var largest) && string.CompareOrdinal(account.AccountId, largest) < 0)
            {
                page.EnqueueDequeue(account, account.AccountId);
            }
        }
        var more = page.Count > escrowLimit;
        if (more)
        {
            page.Dequeue();
        }
        var listed = others.Concat(page.UnorderedItems.Select(e => e.Element)).OrderBy(a => a.AccountId, StringComparer.Ordinal)
            .Select(a => new LedgerAccountView(a.AccountId, a.Currency, a.Posted, a.CreditsPending, a.DebitsPending)).ToArray();
        return new SellerLedgerView(listed, escrows,
            held.OrderBy(h => h.Key, StringComparer.Ordinal).Select(h => new EscrowHeld(h.Key, h.Value.Amount, h.Value.Orders)).ToArray(),
            more ? listed.Last(a => a.AccountId.StartsWith("escrow:", StringComparison.Ordinal)).AccountId : null);
    }

    /// <summary>Seller-net amounts waiting for their settlement day, by order, with their release time (T+N counts from there).</summary>
    public IReadOnlyDictionary<string, (Money Net, DateTimeOffset ReleasedAt)> Maturing => _maturing;

    public OrderStanding? Order(string orderId) => _orders.TryGetValue(orderId, out var o)
        ? new OrderStanding(o.Currency, o.HoldId is null ? 0 : _ledger.PendingAmount(o.HoldId), o.Released, o.RefundedAfterRelease, o.SettledCurrency,
            o.Split)
        : null;

    /// <summary>What a <see cref="Snapshot"/> holds, in items: accounts, orders and maturing entries.</summary>
    public int Size => _ledger.Accounts.Count + _orders.Count + _maturing.Count;

    /// <summary>
    /// Whether the next write should carry a snapshot: once at least <paramref name="every"/> transfers, and at least a quarter as
    /// many transfers as the books hold items (<see cref="Size"/>), were stored since the last one. A snapshot costs work in
    /// proportion to the books' size, so a fixed interval makes a large seller's books cost more per transfer the larger they grow
    /// (each of a flash sale's orders keeps its escrow account until release); in proportion to the size, snapshots cost at most
    /// about four items per transfer however large the books, and an activation replays at most a quarter as many transfers as the
    /// snapshot it restores has items.
    /// </summary>
    public static bool SnapshotDue(int storedSinceSnapshot, int size, int every) =>
        storedSinceSnapshot >= Math.Max(every, size / 4);

    /// <summary>The books in binary form (<see cref="SellerBooksBinary"/>): the ledger image, each order's standing and the maturing list (see <see cref="Restore"/>).</summary>
    public byte[] Snapshot() => CaptureState().ToSnapshot();

    /// <summary>
    /// The books copied as they stand, for a <see cref="Snapshot"/> made later: the copy holds no reference to anything the books
    /// change afterwards, so the grain takes it inside its turn (in proportion to the books' size, but only copying) and the
    /// encoding (fingerprints, ordering, JSON) runs off the turn while the books go on.
    /// </summary>
    public SellerBooksCapture CaptureState() => new(
        _ledger.CaptureState(),
        _orders.Select(o => new SellerBooksImage.OrderImage(o.Key, o.Value.Currency, o.Value.HoldId, o.Value.Released, o.Value.RefundedAfterRelease,
            o.Value.SettledCurrency, o.Value.RefundIds.Count == 0 ? [] : [.. o.Value.RefundIds], o.Value.Split)).ToArray(),
        _maturing.Select(m => new SellerBooksImage.MaturingImage(m.Key, m.Value.Net, m.Value.ReleasedAt)).ToArray(),
        _archivedBefore);

    /// <summary>Books from a <see cref="Snapshot"/>; the transfers stored after it are then <see cref="Replay"/>ed.</summary>
    public static SellerBooks Restore(IFxRates rates, ReadOnlyMemory<byte> snapshot)
    {
        var image = SellerBooksBinary.IsBinary(snapshot.Span)
            ? SellerBooksBinary.Read(snapshot)
            : System.Text.Json.JsonSerializer.Deserialize<SellerBooksImage>(snapshot.Span, SnapshotJson)
                ?? throw new InvalidOperationException("The ledger snapshot is empty.");
        var books = new SellerBooks(rates);
        books._ledger.Restore(image.Ledger);
        foreach (var o in image.Orders)
        {
            var order = books._orders[o.OrderId] = new OrderMoney(o.Currency)
            {
                HoldId = o.HoldId, Released = o.Released, RefundedAfterRelease = o.RefundedAfterRelease, SettledCurrency = o.SettledCurrency,
                Split = o.Split,
            };
            foreach (var refundId in o.RefundIds)
            {
                order.AddRefund(refundId);
            }
        }
        foreach (var m in image.Maturing)
        {
            books._maturing[m.OrderId] = (m.Net, m.ReleasedAt);
        }
        books._archivedBefore = image.ArchivedBefore;
        return books;
    }

    /// <summary>Applies a stored transfer on activation; one that does not apply means the stored books are corrupt.</summary>
    public void Replay(Transfer transfer, DateTimeOffset at)
    {
        var result = _ledger.Apply(transfer);
        if (result != TransferResult.Applied)
        {
            throw new InvalidOperationException($"The stored books do not replay: transfer {transfer.TransferId} gives {result}.");
        }
        Track(transfer, at);
    }

    /// <summary>The buyer's payment is held in the order's escrow as a pending transfer from the PSP clearing account.</summary>
    public IReadOnlyList<Transfer> HoldInEscrow(string orderId, Money amount)
    {
        CheckId(orderId);
        CheckPositive(amount);
        return Run([new Transfer($"{orderId}:escrow", TransferKind.Pending, Psp("clearing", amount.Currency), Escrow(orderId), amount.AmountMinor, amount.Currency)]);
    }

    /// <summary>
    /// Posts what is held in escrow and splits it: commission, logistics and tax stay in the order currency; the seller's net
    /// goes to <c>seller:pending</c> in <paramref name="settlementCurrency"/> (null: the order's own currency), converted at the
    /// current rate through <c>fx:conversion:{cur}</c> accounts. The legs must sum to the amount held now, which is what was paid
    /// less every refund made before release. A release made before changes nothing, and so does an all-zero split of an order
    /// whose escrow was refunded in full.
    /// </summary>
    public IReadOnlyList<Transfer> ReleaseEscrow(EscrowRelease r, string? settlementCurrency, DateTimeOffset now)
    {
        CheckId(r.OrderId);
        var postId = $"{r.OrderId}:escrow-post";
        if (_ledger.Contains(postId))
        {
            return [];
        }
        Money[] legs = [r.Commission, r.LogisticsFee, r.TaxPayable, r.SellerNet];
        if (_orders.GetValueOrDefault(r.OrderId) is not { HoldId: { } holdId } order)
        {
            if (_orders.ContainsKey(r.OrderId) && legs.All(l => l.AmountMinor == 0))
            {
                return []; // refunded in full (or voided) before release: nothing is held, and a split of nothing moves nothing
            }
            throw new InvalidOperationException($"Order {r.OrderId} has no escrow to release (never paid, voided, or refunded in full).");
        }
        var currency = order.Currency;
        var escrowed = _ledger.PendingAmount(holdId);
        if (legs.Any(l => l.Currency != currency || l.AmountMinor < 0) || legs.Sum(l => l.AmountMinor) != escrowed)
        {
            throw new ArgumentException(
                $"The release of order {r.OrderId} must split exactly the {escrowed} {currency} held in escrow (paid less refunds before release).");
        }
        var escrow = Escrow(r.OrderId);
        var transfers = new List<Transfer> { new(postId, TransferKind.PostPending, Psp("clearing", currency), escrow, escrowed, currency, holdId) };
        void Leg(string name, long amount, string account)
        {
            if (amount > 0)
            {
                transfers.Add(new Transfer($"{r.OrderId}:{name}", TransferKind.Posted, escrow, account, amount, currency));
            }
        }
        Leg("commission", r.Commission.AmountMinor, $"platform:commission:{currency}");
        Leg("logistics", r.LogisticsFee.AmountMinor, $"platform:logistics:{currency}");
        Leg("tax", r.TaxPayable.AmountMinor, $"tax:payable:{r.TaxCountry ?? "XX"}:{currency}");
        var target = SettleIn(settlementCurrency, currency);
        if (target == currency)
        {
            Leg("seller-net", r.SellerNet.AmountMinor, $"seller:pending:{currency}");
        }
        else if (r.SellerNet.AmountMinor > 0)
        {
            var converted = Convert(r.SellerNet, target);
            Leg("seller-net:convert", r.SellerNet.AmountMinor, Fx(currency));
            if (converted.AmountMinor > 0)
            {
                transfers.Add(new Transfer($"{r.OrderId}:seller-net", TransferKind.Posted, Fx(target), $"seller:pending:{target}", converted.AmountMinor, target));
            }
        }
        return Run(transfers, now);
    }

    /// <summary>The order ended before release: whatever is still held goes back to the buyer's side. Nothing held: nothing to do.</summary>
    public IReadOnlyList<Transfer> VoidEscrow(string orderId)
    {
        CheckId(orderId);
        if (_orders.GetValueOrDefault(orderId) is not { HoldId: { } holdId } order)
        {
            return [];
        }
        return Run([new Transfer($"{orderId}:escrow-void", TransferKind.VoidPending, Psp("clearing", order.Currency), Escrow(orderId), 0, order.Currency, holdId)]);
    }

    /// <summary>Moves every seller net released at least <paramref name="cycle"/> before <paramref name="now"/> from pending to available.</summary>
    public IReadOnlyList<Transfer> Mature(DateTimeOffset now, TimeSpan cycle) => Mature(now, _ => cycle);

    /// <summary>Moves every seller net whose cycle, the one in force when it was released (<paramref name="cycleAt"/>), has passed.</summary>
    public IReadOnlyList<Transfer> Mature(DateTimeOffset now, Func<DateTimeOffset, TimeSpan> cycleAt) =>
        Run(_maturing.Where(m => m.Value.ReleasedAt + cycleAt(m.Value.ReleasedAt) <= now).OrderBy(m => m.Key, StringComparer.Ordinal)
            .Select(m => new Transfer($"{m.Key}:settle", TransferKind.Posted, $"seller:pending:{m.Value.Net.Currency}",
                $"seller:available:{m.Value.Net.Currency}", m.Value.Net.AmountMinor, m.Value.Net.Currency))
            .ToArray());

    /// <summary>Pays out from the seller's available balance in that currency.</summary>
    /// <summary>True when a withdrawal with this id was booked (whatever its amount).</summary>
    public bool HasWithdrawal(string withdrawalId) => _ledger.Contains($"withdrawal:{withdrawalId}");

    public (WithdrawalResult Result, IReadOnlyList<Transfer> Applied) Withdraw(string withdrawalId, Money amount)
    {
        CheckId(withdrawalId);
        CheckPositive(amount);
        var transfer = new Transfer($"withdrawal:{withdrawalId}", TransferKind.Posted, $"seller:available:{amount.Currency}",
            Psp("payouts", amount.Currency), amount.AmountMinor, amount.Currency);
        var known = _ledger.Contains(transfer.TransferId);
        var (result, _) = _ledger.ApplyAll([transfer]);
        return result switch
        {
            TransferResult.Applied when known => (WithdrawalResult.AlreadyApplied, []),
            TransferResult.Applied => (WithdrawalResult.Applied, [transfer]),
            TransferResult.InsufficientFunds => (WithdrawalResult.InsufficientFunds, []),
            _ => (WithdrawalResult.Refused, []),
        };
    }

    /// <summary>Money put on the seller's deposit from outside (<c>psp:deposits</c>); the deposit backs refunds after release.</summary>
    public (DepositResult Result, IReadOnlyList<Transfer> Applied) FundDeposit(string depositId, Money amount)
    {
        CheckId(depositId);
        CheckPositive(amount);
        var transfer = new Transfer($"deposit:{depositId}", TransferKind.Posted, Psp("deposits", amount.Currency), $"seller:deposit:{amount.Currency}",
            amount.AmountMinor, amount.Currency);
        var known = _ledger.Contains(transfer.TransferId);
        var (result, _) = _ledger.ApplyAll([transfer]);
        return result switch
        {
            TransferResult.Applied when known => (DepositResult.AlreadyApplied, []),
            TransferResult.Applied => (DepositResult.Applied, [transfer]),
            _ => (DepositResult.IdReused, []),
        };
    }

    /// <summary>
    /// R-SET-3, all or nothing. Before release the refund comes out of the escrow: the open hold is voided and a new hold placed
    /// for the rest (none when everything is refunded). After release it is charged to the seller in
    /// <paramref name="settlementCurrency"/> (null: the currency the order was settled in), converted at the current rate:
    /// first the order's own net while it still matures in pending (in the currency it was settled in), then the available
    /// balance, then the deposit, and after a switch of settlement currency what is left in the order's; the buyer's money leaves
    /// through <c>psp:refunds</c> in the order currency.
    /// Every transfer id names the refund, so the refund shows on the seller's statement.
    /// </summary>
    public (LedgerRefundResult Result, IReadOnlyList<Transfer> Applied) Refund(LedgerRefund refund, string? settlementCurrency)
    {
        CheckId(refund.OrderId);
        CheckId(refund.RefundId);
        CheckPositive(refund.Amount);
        var order = _orders.GetValueOrDefault(refund.OrderId);
        if (order is null)
        {
            return (LedgerRefundResult.ExceedsPaid, []);
        }
        if (order.HasRefund(refund.RefundId))
        {
            return (LedgerRefundResult.AlreadyApplied, []);
        }
        var currency = order.Currency;
        if (refund.Amount.Currency != currency)
        {
            throw new ArgumentException($"Order {refund.OrderId} was paid in {currency}; a refund is booked in that currency, not {refund.Amount.Currency}.");
        }
        var amount = refund.Amount.AmountMinor;
        var id = $"{refund.OrderId}:refund:{refund.RefundId}";
        var escrow = Escrow(refund.OrderId);
        if (order.HoldId is { } holdId)
        {
            var held = _ledger.PendingAmount(holdId);
            if (amount > held)
            {
                return (LedgerRefundResult.ExceedsPaid, []);
            }
            var transfers = new List<Transfer> { new($"{id}:void", TransferKind.VoidPending, Psp("clearing", currency), escrow, held, currency, holdId) };
            if (held > amount)
            {
                transfers.Add(new Transfer($"{id}:escrow", TransferKind.Pending, Psp("clearing", currency), escrow, held - amount, currency));
            }
            return (LedgerRefundResult.Applied, Run(transfers));
        }
        if (order.Released is not { } released || amount > released - order.RefundedAfterRelease)
        {
            return (LedgerRefundResult.ExceedsPaid, []);
        }
        // The platform gives back its commission and the tax it booked in proportion to the refund (all that is left of them with
        // the last of the order's money); the seller is charged the rest. The logistics fee stays: the parcel was carried.
        var (commissionBack, taxBack) = SharesBack(order, amount, released);
        var sellerPart = amount - commissionBack - taxBack;
        var target = SettleIn(settlementCurrency ?? order.SettledCurrency, currency);
        // Who pays the seller's part, in this order, each group in one currency charged at the current rate: this order's own net
        // while it still matures in pending (T+N; a return soon after completion is paid from the sale it undoes, not refused for
        // want of other funds), in the currency it was settled in; then the available balance and the deposit in the settlement
        // currency; and, when the order was settled in another one (the seller switched since), what is left in that one. Charged
        // in the settlement currency alone, a switch left the order's own net and the old balances out, and the refund was refused.
        _maturing.TryGetValue(refund.OrderId, out var own);
        var old = own.Net?.Currency ?? order.SettledCurrency;
        var groups = new List<(string Currency, (string Account, string Leg)[] Accounts)>();
        // A currency the rate table no longer has (a table is loaded whole) cannot be charged: that group is left out.
        bool Chargeable(string x) => x == currency || rates.TryGetRate(currency, x, out _, out _);
        if (own.Net is { AmountMinor: > 0 } && own.Net.Currency != target && Chargeable(own.Net.Currency))
        {
            groups.Add((own.Net.Currency, [($"seller:pending:{own.Net.Currency}", "pending")]));
        }
        groups.Add((target, own.Net is { AmountMinor: > 0 } && own.Net.Currency == target
            ? [($"seller:pending:{target}", "pending"), ($"seller:available:{target}", "available"), ($"seller:deposit:{target}", "deposit")]
            : [($"seller:available:{target}", "available"), ($"seller:deposit:{target}", "deposit")]));
        if (old is not null && old != target && Chargeable(old))
        {
            groups.Add((old, [($"seller:available:{old}", $"available:{old}"), ($"seller:deposit:{old}", $"deposit:{old}")]));
        }
        var legs = new List<Transfer>();
        if (commissionBack > 0)
        {
            legs.Add(new Transfer($"{id}:commission", TransferKind.Posted, $"platform:commission:{currency}", Psp("refunds", currency), commissionBack, currency));
        }
        if (taxBack > 0)
        {
            legs.Add(new Transfer($"{id}:tax", TransferKind.Posted, order.Split!.TaxAccount!, Psp("refunds", currency), taxBack, currency));
        }
        var remaining = sellerPart; // in the order currency
        var converted = 0L;         // of it, paid in another currency: through the conversion accounts
        foreach (var (groupCurrency, accounts) in groups)
        {
            if (remaining == 0)
            {
                break;
            }
            var charge = Convert(new Money(remaining, currency), groupCurrency).AmountMinor;
            var taken = 0L;
            foreach (var (account, leg) in accounts)
            {
                var balance = leg == "pending" ? own.Net!.AmountMinor : Math.Max(0, _ledger.Balance(account)?.Available ?? 0);
                var take = Math.Min(charge - taken, balance);
                if (take > 0)
                {
                    legs.Add(new Transfer($"{id}:{leg}", TransferKind.Posted, account,
                        groupCurrency == currency ? Psp("refunds", currency) : Fx(groupCurrency), take, groupCurrency));
                    taken += take;
                }
            }
            // What the group paid covers all that was left, or as much of it as its money buys at the rate (never more).
            var covered = taken == charge ? remaining : Covered(remaining, currency, taken, groupCurrency);
            remaining -= covered;
            converted += groupCurrency == currency ? 0 : covered;
        }
        if (remaining > 0)
        {
            return (LedgerRefundResult.InsufficientFunds, []);
        }
        if (converted > 0)
        {
            legs.Add(new Transfer(id, TransferKind.Posted, Fx(currency), Psp("refunds", currency), converted, currency));
        }
        return (LedgerRefundResult.Applied, Run(legs));
    }

    /// <summary>
    /// R-DIS-4, all or nothing: a compensation to the buyer of <paramref name="c"/>'s order, paid by the seller in
    /// <paramref name="settlementCurrency"/> (null: the currency the order was settled in, else its own), converted at the current
    /// rate: first from the deposit, then the available balance. Pending money (maturing nets) and the order's escrow are not
    /// touched: the escrow stays the seller's at release, and pending money is not the seller's to spend yet. Refused, changing
    /// nothing, when the two do not cover it. The buyer's money leaves through <c>psp:refunds</c> in the order currency, and every
    /// transfer id names the compensation (<c>{order}:compensation:{id}:deposit|available</c>), so it shows on the statement and
    /// a repeat books nothing.
    /// </summary>
    public (LedgerCompensationResult Result, IReadOnlyList<Transfer> Applied) Compensate(LedgerCompensation c, string? settlementCurrency)
    {
        var (result, legs) = PlanCompensation(c, settlementCurrency);
        return (result, legs.Count == 0 ? [] : Run(legs));
    }

    /// <summary>What paid the compensation booked under <paramref name="id"/>; null when a leg is known by its fingerprint only.</summary>
    private CompensationFunding? BookedFunding(string id)
    {
        var (depositId, availableId) = ($"{id}:deposit", $"{id}:available");
        var fromDeposit = _ledger.Find(depositId);
        var fromAvailable = _ledger.Find(availableId);
        if ((fromDeposit is null && _ledger.Contains(depositId)) || (fromAvailable is null && _ledger.Contains(availableId)))
        {
            return null;
        }
        var currency = (fromDeposit ?? fromAvailable)!.Currency;
        return new CompensationFunding(new Money(fromDeposit?.Amount ?? 0, currency), new Money(fromAvailable?.Amount ?? 0, currency));
    }

    /// <summary>What <see cref="Compensate"/> would answer now; changes nothing.</summary>
    public LedgerCompensationResult QuoteCompensation(LedgerCompensation c, string? settlementCurrency) => PlanCompensation(c, settlementCurrency).Result;

    private (LedgerCompensationResult Result, IReadOnlyList<Transfer> Legs) PlanCompensation(LedgerCompensation c, string? settlementCurrency)
    {
        CheckId(c.OrderId);
        CheckId(c.CompensationId);
        CheckPositive(c.Amount);
        if (_orders.GetValueOrDefault(c.OrderId) is not { } order)
        {
            return (new LedgerCompensationResult(LedgerCompensationStatus.UnknownOrder), []);
        }
        if (c.Amount.Currency != order.Currency)
        {
            throw new ArgumentException($"Order {c.OrderId} was paid in {order.Currency}; a compensation is booked in that currency, not {c.Amount.Currency}.");
        }
        return PlanSellerCharge(order, $"{c.OrderId}:compensation:{c.CompensationId}", c.Amount, Psp("refunds", order.Currency), settlementCurrency);
    }

    /// <summary>
    /// R-DIS-6, all or nothing: a fee of <paramref name="f"/>'s order to the platform (<c>platform:fees</c> in the order currency).
    /// Paid by the seller like a compensation (<c>{order}:fee:{id}:deposit|available</c>), or kept back from the buyer's refund of
    /// the order (<c>{order}:fee:{id}:refund</c>): the refund gave the money back out of the escrow, and the platform keeps this much
    /// of it from the clearing account instead of paying it to the buyer. A repeat books nothing.
    /// </summary>
    public (LedgerCompensationResult Result, IReadOnlyList<Transfer> Applied) ChargeFee(LedgerFee f, string? settlementCurrency)
    {
        var (result, legs) = PlanFee(f, settlementCurrency);
        return (result, legs.Count == 0 ? [] : Run(legs));
    }

    /// <summary>What <see cref="ChargeFee"/> would answer now; changes nothing.</summary>
    public LedgerCompensationResult QuoteFee(LedgerFee f, string? settlementCurrency) => PlanFee(f, settlementCurrency).Result;

    private (LedgerCompensationResult Result, IReadOnlyList<Transfer> Legs) PlanFee(LedgerFee f, string? settlementCurrency)
    {
        CheckId(f.OrderId);
        CheckId(f.FeeId);
        CheckPositive(f.Amount);
        if (_orders.GetValueOrDefault(f.OrderId) is not { } order)
        {
            return (new LedgerCompensationResult(LedgerCompensationStatus.UnknownOrder), []);
        }
        var currency = order.Currency;
        if (f.Amount.Currency != currency)
        {
            throw new ArgumentException($"Order {f.OrderId} was paid in {currency}; a fee is booked in that currency, not {f.Amount.Currency}.");
        }
        var id = $"{f.OrderId}:fee:{f.FeeId}";
        if (f.Payer == LedgerFeePayer.BuyerRefund)
        {
            var kept = new Transfer($"{id}:refund", TransferKind.Posted, Psp("clearing", currency), Fees(currency), f.Amount.AmountMinor, currency);
            return _ledger.Contains(kept.TransferId)
                ? (new LedgerCompensationResult(LedgerCompensationStatus.AlreadyApplied), [])
                : (new LedgerCompensationResult(LedgerCompensationStatus.Applied, null, f.Amount), [kept]);
        }
        return PlanSellerCharge(order, id, f.Amount, Fees(currency), settlementCurrency);
    }

    /// <summary>
    /// The legs charging <paramref name="amount"/> (order currency) to the seller under transfer id <paramref name="id"/>, in
    /// <paramref name="settlementCurrency"/> (null: the currency the order was settled in, else its own) at the current rate: first
    /// the deposit, then the available balance, into <paramref name="sink"/> (in the order currency, through the conversion accounts
    /// when the seller settles in another). When those do not cover it, the deposit and available balance of another currency the
    /// seller holds money in pay it instead, all of it: the order's settled currency first, then the order's, then the others by
    /// code (charged in the settlement currency alone, a seller that switched it kept its deposit in the old one and was refused
    /// every compensation). Refused, with what the settlement currency's two hold, when none covers it.
    /// </summary>
    private (LedgerCompensationResult Result, IReadOnlyList<Transfer> Legs) PlanSellerCharge(OrderMoney order, string id, Money amount, string sink,
        string? settlementCurrency)
    {
        var currency = order.Currency;
        if (_ledger.Contains($"{id}:deposit") || _ledger.Contains($"{id}:available"))
        {
            return (new LedgerCompensationResult(LedgerCompensationStatus.AlreadyApplied, BookedFunding(id)), []);
        }
        var settled = SettleIn(settlementCurrency ?? order.SettledCurrency, currency);
        // At least one minor unit, so that the charge always leaves a leg by which a repeat is known.
        (long Charge, long Deposit, long Available) Funds(string x) => (Math.Max(1, Convert(amount, x).AmountMinor),
            Math.Max(0, _ledger.Balance($"seller:deposit:{x}")?.Available ?? 0), Math.Max(0, _ledger.Balance($"seller:available:{x}")?.Available ?? 0));
        var target = settled;
        var (charge, deposit, available) = Funds(target);
        if (deposit + available < charge)
        {
            var held = _ledger.Accounts.Keys
                .Where(a => a.StartsWith("seller:deposit:", StringComparison.Ordinal) || a.StartsWith("seller:available:", StringComparison.Ordinal))
                .Select(a => a[(a.LastIndexOf(':') + 1)..]).Distinct(StringComparer.Ordinal)
                .Where(x => x != settled && (x == currency || rates.TryGetRate(currency, x, out _, out _)))
                .OrderBy(x => x == order.SettledCurrency ? 0 : x == currency ? 1 : 2).ThenBy(x => x, StringComparer.Ordinal);
            if (held.Select(x => (Currency: x, Funds: Funds(x))).FirstOrDefault(h => h.Funds.Deposit + h.Funds.Available >= h.Funds.Charge) is { Currency: not null } other)
            {
                (target, charge, deposit, available) = (other.Currency, other.Funds.Charge, other.Funds.Deposit, other.Funds.Available);
            }
            else
            {
                return (new LedgerCompensationResult(LedgerCompensationStatus.InsufficientFunds, null, new Money(charge, target), new Money(deposit, target),
                    new Money(available, target)), []);
            }
        }
        var fromDeposit = Math.Min(charge, deposit);
        var fromBalance = charge - fromDeposit;
        var firstSink = target == currency ? sink : Fx(target);
        var legs = new List<Transfer>();
        if (fromDeposit > 0)
        {
            legs.Add(new Transfer($"{id}:deposit", TransferKind.Posted, $"seller:deposit:{target}", firstSink, fromDeposit, target));
        }
        if (fromBalance > 0)
        {
            legs.Add(new Transfer($"{id}:available", TransferKind.Posted, $"seller:available:{target}", firstSink, fromBalance, target));
        }
        if (target != currency)
        {
            legs.Add(new Transfer(id, TransferKind.Posted, Fx(currency), sink, amount.AmountMinor, currency));
        }
        var funding = new CompensationFunding(new Money(fromDeposit, target), new Money(fromBalance, target));
        return (new LedgerCompensationResult(LedgerCompensationStatus.Applied, funding, new Money(charge, target)), legs);
    }

    /// <summary>
    /// The commission and tax a refund of <paramref name="amount"/> after release takes back: each in proportion to the
    /// <paramref name="released"/> amount, rounded down, and whatever is left of them when the refund gives back the last of
    /// the order's money, so across refunds exactly what was booked comes back. Nothing for an order whose split is not known.
    /// </summary>
    private static (long Commission, long Tax) SharesBack(OrderMoney order, long amount, long released)
    {
        if (order.Split is not { } split || released <= 0)
        {
            return (0, 0);
        }
        var commissionLeft = split.Commission - split.CommissionReturned;
        var taxLeft = split.Tax - split.TaxReturned;
        var last = amount == released - order.RefundedAfterRelease;
        var tax = Math.Min(amount, last ? taxLeft : Math.Min(taxLeft, (long)((Int128)amount * split.Tax / released)));
        var commission = Math.Min(amount - tax, last ? commissionLeft : Math.Min(commissionLeft, (long)((Int128)amount * split.Commission / released)));
        return (commission, tax);
    }

    /// <summary>
    /// The seller's settlement currency when there is a rate to it from the order's currency; otherwise the order's own. The
    /// setting is checked against a dollar rate only, and a currency without a rate would fail every release and refund for
    /// ever (the escrow stuck, the seller never paid) where settling in the order's currency pays the seller.
    /// </summary>
    private string SettleIn(string? wanted, string orderCurrency) =>
        wanted is { } currency && (currency == orderCurrency || rates.TryGetRate(orderCurrency, currency, out _, out _)) ? currency : orderCurrency;

    /// <summary>
    /// The most of <paramref name="remaining"/> (in <paramref name="currency"/>) that <paramref name="paid"/> minor units of
    /// <paramref name="paidCurrency"/> buy: the largest amount whose conversion is at most what was paid.
    /// </summary>
    private long Covered(long remaining, string currency, long paid, string paidCurrency)
    {
        if (paid <= 0)
        {
            return 0;
        }
        if (paidCurrency == currency)
        {
            return Math.Min(paid, remaining);
        }
        var covered = Math.Min(remaining, Convert(new Money(paid, paidCurrency), currency).AmountMinor);
        while (covered > 0 && Convert(new Money(covered, currency), paidCurrency).AmountMinor > paid)
        {
            covered--;
        }
        while (covered < remaining && Convert(new Money(covered + 1, currency), paidCurrency).AmountMinor <= paid)
        {
            covered++;
        }
        return covered;
    }

    private Money Convert(Money amount, string target)
    {
        if (amount.Currency == target)
        {
            return amount;
        }
        if (!rates.TryGetRate(amount.Currency, target, out var rate, out _))
        {
            throw new InvalidOperationException($"No exchange rate from {amount.Currency} to {target}; the settlement cannot be converted.");
        }
        return CurrencyConversion.Convert(amount, target, rate);
    }

    /// <summary>Applies the transfers as one unit and returns those that are new (a repeat returns none).</summary>
    private IReadOnlyList<Transfer> Run(IReadOnlyList<Transfer> transfers, DateTimeOffset at = default)
    {
        var fresh = transfers.Where(t => !_ledger.Contains(t.TransferId)).ToArray();
        var (result, refused) = _ledger.ApplyAll(transfers);
        if (result != TransferResult.Applied)
        {
            throw new InvalidOperationException($"Transfer {refused!.TransferId} refused: {result}; nothing was applied.");
        }
        foreach (var t in fresh)
        {
            Track(t, at);
        }
        return fresh;
    }

    /// <summary>Keeps the state derived from transfer ids: each order's open hold, release, refunds and the maturing list.</summary>
    private void Track(Transfer t, DateTimeOffset at)
    {
        switch (t.TransferId.Split(':'))
        {
            case ["withdrawal" or "deposit", _]:
                return;
            case [var orderId, "escrow"] when t.Kind == TransferKind.Pending:
                (_orders.GetValueOrDefault(orderId) ?? (_orders[orderId] = new OrderMoney(t.Currency))).HoldId = t.TransferId;
                return;
            case [var orderId, "escrow-post"]:
                _orders[orderId].HoldId = null;
                _orders[orderId].Released = t.Amount;
                _orders[orderId].Split = new SellerBooksImage.ReleasedShares(0, 0, null, 0, 0); // the legs that follow fill it in
                return;
            case [var orderId, "commission"]:
                _orders[orderId].Split = _orders[orderId].Split! with { Commission = t.Amount };
                return;
            case [var orderId, "tax"]:
                _orders[orderId].Split = _orders[orderId].Split! with { Tax = t.Amount, TaxAccount = t.CreditAccount };
                return;
            case [var orderId, "escrow-void"]:
                _orders[orderId].HoldId = null;
                return;
            case [var orderId, "seller-net"]:
                _orders[orderId].SettledCurrency = t.Currency;
                _maturing[orderId] = (new Money(t.Amount, t.Currency), at);
                return;
            case [var orderId, "settle"]:
                _maturing.Remove(orderId);
                return;
            case [var orderId, "refund", var refundId, .. var leg]:
                var order = _orders[orderId];
                order.AddRefund(refundId);
                order.HoldId = t.Kind switch
                {
                    TransferKind.VoidPending => null,
                    TransferKind.Pending => t.TransferId,
                    _ => order.HoldId,
                };
                if (t.CreditAccount.StartsWith("psp:refunds:", StringComparison.Ordinal))
                {
                    order.RefundedAfterRelease += t.Amount;
                }
                if (order.Split is { } split)
                {
                    // The platform's commission and the tax taken back (see SharesBack).
                    order.Split = leg switch
                    {
                        ["commission"] => split with { CommissionReturned = split.CommissionReturned + t.Amount },
                        ["tax"] => split with { TaxReturned = split.TaxReturned + t.Amount },
                        _ => split,
                    };
                }
                if (t.DebitAccount.StartsWith("seller:pending:", StringComparison.Ordinal) && _maturing.TryGetValue(orderId, out var maturing))
                {
                    // Paid back from the order's net still maturing: less of it becomes available, none once it is all given back.
                    var left = maturing.Net.AmountMinor - t.Amount;
                    if (left > 0)
                    {
                        _maturing[orderId] = (maturing.Net with { AmountMinor = left }, maturing.ReleasedAt);
                    }
                    else
                    {
                        _maturing.Remove(orderId);
                    }
                }
                return;
        }
    }

    private static string Psp(string purpose, string currency) => $"psp:{purpose}:{currency}";

    private static string Fx(string currency) => $"fx:conversion:{currency}";

    /// <summary>The platform's account for fees it charges on an order (R-DIS-6: inspections), in the order currency.</summary>
    private static string Fees(string currency) => $"platform:fees:{currency}";

    /// <summary>Transfer ids are built from these ids with ':' as separator, so they may not contain one.</summary>
    private static void CheckId(string id)
    {
        if (string.IsNullOrEmpty(id) || id.Contains(':', StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{id}' is not a usable id: it must be non-empty and contain no ':'.", nameof(id));
        }
    }

    private static void CheckPositive(Money amount)
    {
        if (amount.AmountMinor <= 0 || !Iso4217.IsKnown(amount.Currency))
        {
            throw new ArgumentOutOfRangeException(nameof(amount), $"An amount is positive and in a supported ISO 4217 currency; got {amount.AmountMinor} {amount.Currency}.");
        }
    }
}

/// <summary>The books at one moment (<see cref="SellerBooks.CaptureState"/>), to encode as a snapshot on any thread.</summary>
public sealed class SellerBooksCapture
{
    private readonly LedgerCapture _ledger;
    private readonly SellerBooksImage.OrderImage[] _orders;
    private readonly SellerBooksImage.MaturingImage[] _maturing;
    private readonly DateTimeOffset? _archivedBefore;

    internal SellerBooksCapture(LedgerCapture ledger, SellerBooksImage.OrderImage[] orders, SellerBooksImage.MaturingImage[] maturing,
        DateTimeOffset? archivedBefore)
    {
        _ledger = ledger;
        _orders = orders;
        _maturing = maturing;
        _archivedBefore = archivedBefore;
    }

    /// <summary>The binary form (<see cref="SellerBooksBinary"/>), every list in a stable order, so the same books always make the same bytes.</summary>
    public byte[] ToSnapshot() => SellerBooksBinary.Write(ToImage());

    /// <summary>The JSON form that snapshots had before the binary one; they still restore.</summary>
    public byte[] ToJsonSnapshot() => System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(ToImage(), SellerBooks.SnapshotJson);

    private SellerBooksImage ToImage()
    {
        var orders = _orders.Select(o => o.RefundIds.Count < 2 ? o : o with { RefundIds = o.RefundIds.Order(StringComparer.Ordinal).ToArray() }).ToArray();
        Array.Sort(orders, (a, b) => string.CompareOrdinal(a.OrderId, b.OrderId));
        var maturing = _maturing.ToArray();
        Array.Sort(maturing, (a, b) => string.CompareOrdinal(a.OrderId, b.OrderId));
        return new SellerBooksImage(_ledger.ToImage(), orders, maturing, _archivedBefore);
    }
}
