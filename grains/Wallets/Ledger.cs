namespace Orleans.Trade.Wallets;

/// <summary>Whether an account may go below zero. Guarded accounts hold money someone owns; open ones mirror the outside world.</summary>
public enum AccountGuard
{
    /// <summary>Available balance (credits − debits − pending debits) never goes below zero.</summary>
    MustNotGoNegative,
    /// <summary>May go negative, e.g. the payment provider's clearing account: money that came in from outside.</summary>
    Open,
}

public enum TransferKind
{
    /// <summary>Moves money at once.</summary>
    Posted,
    /// <summary>Holds money on the debit account until posted or voided (escrow).</summary>
    Pending,
    /// <summary>Completes a pending transfer, for its full amount or less (the rest is released).</summary>
    PostPending,
    /// <summary>Releases a pending transfer.</summary>
    VoidPending,
}

/// <summary>
/// One double-entry transfer (R-ROLE-1, R-SET-1): <see cref="Amount"/> minor units of one currency leave the debit account
/// and reach the credit account. Ids make retries no-ops. For PostPending and VoidPending, <see cref="PendingId"/> names the
/// pending transfer and the accounts must be its accounts.
/// </summary>
public sealed record Transfer(
    string TransferId,
    TransferKind Kind,
    string DebitAccount,
    string CreditAccount,
    long Amount,
    string Currency,
    string? PendingId = null);

public enum TransferResult
{
    Applied,
    /// <summary>The same transfer was applied before: nothing changed.</summary>
    AlreadyApplied,
    /// <summary>The id was used for a different transfer: nothing changed.</summary>
    IdReused,
    InsufficientFunds,
    CurrencyMismatch,
    InvalidAmount,
    SameAccount,
    PendingNotFound,
    PendingAlreadyClosed,
    PendingMismatch,
}

/// <summary>An account's totals; for a guarded account <see cref="Available"/> never drops below zero.</summary>
public sealed record AccountBalance(string AccountId, string Currency, AccountGuard Guard, long DebitsPosted, long CreditsPosted, long DebitsPending, long CreditsPending)
{
    public long Posted => CreditsPosted - DebitsPosted;
    public long Available => CreditsPosted - DebitsPosted - DebitsPending;
}

/// <summary>A ledger's state without its transfers (see <see cref="Ledger.Image"/>).</summary>
public sealed record LedgerImage(
    IReadOnlyList<AccountBalance> Accounts,
    IReadOnlyList<LedgerImage.PendingImage> Pendings,
    IReadOnlyDictionary<string, long> Fingerprints)
{
    public sealed record PendingImage(Transfer Transfer, bool Closed);
}

/// <summary>
/// A double-entry ledger in memory, with the invariants of TigerBeetle-style ledgers checked on every change: every transfer
/// balances, guarded accounts never go negative, ids are unique, and a pending transfer is closed (posted or voided) once.
/// Pure: persistence and concurrency are the grain's business.
/// </summary>
public sealed class Ledger(Func<string, AccountGuard> guardOf)
{
    private readonly Dictionary<string, AccountBalance> _accounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Transfer> _transfers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (Transfer Pending, bool Closed)> _pending = new(StringComparer.Ordinal);
    /// <summary>Transfers applied before the image this ledger was restored from: only their fingerprints are kept.</summary>
    private readonly Dictionary<string, long> _earlier = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, AccountBalance> Accounts => _accounts;

    public AccountBalance? Balance(string accountId) => _accounts.GetValueOrDefault(accountId);

    public bool Contains(string transferId) => _transfers.ContainsKey(transferId) || _earlier.ContainsKey(transferId);

    /// <summary>A transfer applied since this ledger was restored; null for one known by its fingerprint only, or unknown.</summary>
    public Transfer? Find(string transferId) => _transfers.GetValueOrDefault(transferId);

    /// <summary>Open pending amount of a pending transfer; 0 when closed or unknown.</summary>
    public long PendingAmount(string pendingId) => _pending.TryGetValue(pendingId, out var p) && !p.Closed ? p.Pending.Amount : 0;

    public TransferResult Apply(Transfer t)
    {
        if (_transfers.TryGetValue(t.TransferId, out var earlier))
        {
            return earlier == t ? TransferResult.AlreadyApplied : TransferResult.IdReused;
        }
        if (_earlier.TryGetValue(t.TransferId, out var fingerprint))
        {
            return fingerprint == Fingerprint(t) ? TransferResult.AlreadyApplied : TransferResult.IdReused;
        }
        if (t.Amount <= 0 && t.Kind != TransferKind.VoidPending)
        {
            return TransferResult.InvalidAmount;
        }
        if (t.DebitAccount == t.CreditAccount)
        {
            return TransferResult.SameAccount;
        }
        var debit = Account(t.DebitAccount, t.Currency);
        var credit = Account(t.CreditAccount, t.Currency);
        if (debit.Currency != t.Currency || credit.Currency != t.Currency)
        {
            return TransferResult.CurrencyMismatch;
        }
        switch (t.Kind)
        {
            case TransferKind.Posted:
                if (debit.Guard == AccountGuard.MustNotGoNegative && debit.Available < t.Amount)
                {
                    return TransferResult.InsufficientFunds;
                }
                debit = debit with { DebitsPosted = checked(debit.DebitsPosted + t.Amount) };
                credit = credit with { CreditsPosted = checked(credit.CreditsPosted + t.Amount) };
                break;
            case TransferKind.Pending:
                if (debit.Guard == AccountGuard.MustNotGoNegative && debit.Available < t.Amount)
                {
                    return TransferResult.InsufficientFunds;
                }
                debit = debit with { DebitsPending = checked(debit.DebitsPending + t.Amount) };
                credit = credit with { CreditsPending = checked(credit.CreditsPending + t.Amount) };
                _pending[t.TransferId] = (t, false);
                break;
            case TransferKind.PostPending or TransferKind.VoidPending:
                if (t.PendingId is null || !_pending.TryGetValue(t.PendingId, out var open))
                {
                    return TransferResult.PendingNotFound;
                }
                if (open.Closed)
                {
                    return TransferResult.PendingAlreadyClosed;
                }
                var p = open.Pending;
                if (p.DebitAccount != t.DebitAccount || p.CreditAccount != t.CreditAccount || p.Currency != t.Currency
                    || (t.Kind == TransferKind.PostPending && t.Amount > p.Amount))
                {
                    return TransferResult.PendingMismatch;
                }
                var posted = t.Kind == TransferKind.PostPending ? t.Amount : 0;
                debit = debit with { DebitsPending = debit.DebitsPending - p.Amount, DebitsPosted = checked(debit.DebitsPosted + posted) };
                credit = credit with { CreditsPending = credit.CreditsPending - p.Amount, CreditsPosted = checked(credit.CreditsPosted + posted) };
                _pending[t.PendingId] = (p, true);
                break;
        }
        _accounts[debit.AccountId] = debit;
        _accounts[credit.AccountId] = credit;
        _transfers[t.TransferId] = t;
        CheckInvariants(debit, credit);
        return TransferResult.Applied;
    }

    /// <summary>
    /// Applies the transfers as one unit: each is applied (or was already), or none is. On the first refusal every transfer this
    /// call applied is undone and the refusal is returned with the transfer that caused it.
    /// </summary>
    public (TransferResult Result, Transfer? Refused) ApplyAll(IReadOnlyList<Transfer> transfers)
    {
        var undo = new Stack<Action>();
        foreach (var t in transfers)
        {
            var restore = Capture(t);
            var result = Apply(t);
            if (result == TransferResult.Applied)
            {
                undo.Push(restore);
            }
            else if (result != TransferResult.AlreadyApplied)
            {
                while (undo.TryPop(out var step))
                {
                    step();
                }
                return (result, t);
            }
        }
        return (TransferResult.Applied, null);
    }

    /// <summary>What <see cref="Apply"/> may change for this transfer, as an action that puts it back.</summary>
    private Action Capture(Transfer t)
    {
        var debit = _accounts.GetValueOrDefault(t.DebitAccount);
        var credit = _accounts.GetValueOrDefault(t.CreditAccount);
        var pendingKey = t.Kind == TransferKind.Pending ? t.TransferId : t.PendingId;
        (Transfer Pending, bool Closed) pendingBefore = default;
        var hadPending = pendingKey is not null && _pending.TryGetValue(pendingKey, out pendingBefore);
        return () =>
        {
            Put(t.DebitAccount, debit);
            Put(t.CreditAccount, credit);
            if (pendingKey is not null)
            {
                if (hadPending) _pending[pendingKey] = pendingBefore;
                else _pending.Remove(pendingKey);
            }
            _transfers.Remove(t.TransferId);
        };
    }

    private void Put(string accountId, AccountBalance? balance)
    {
        if (balance is null) _accounts.Remove(accountId);
        else _accounts[accountId] = balance;
    }

    private AccountBalance Account(string id, string currency) =>
        _accounts.GetValueOrDefault(id) ?? new AccountBalance(id, currency, guardOf(id), 0, 0, 0, 0);

    private static void CheckInvariants(params AccountBalance[] touched)
    {
        foreach (var a in touched)
        {
            if (a.DebitsPending < 0 || a.CreditsPending < 0 || (a.Guard == AccountGuard.MustNotGoNegative && a.Available < 0))
            {
                throw new InvalidOperationException($"Ledger invariant broken on {a.AccountId}: {a}.");
            }
        }
    }

    /// <summary>
    /// Everything needed to go on from here without the transfers: balances, every pending transfer (open or closed), and a
    /// fingerprint of each transfer id so that a repeat is still recognised and a reused id still refused.
    /// </summary>
    public LedgerImage Image() => CaptureState().ToImage();

    /// <summary>
    /// What <see cref="Image"/> is made of, copied as it stands: references to the immutable balances and transfers only, so it
    /// is cheap to take inside a turn and stays unchanged while the ledger goes on; <see cref="LedgerCapture.ToImage"/> (the
    /// fingerprints and the ordering, in proportion to every transfer ever applied) may then run on another thread.
    /// </summary>
    public LedgerCapture CaptureState() => new([.. _accounts.Values], [.. _pending.Values], [.. _earlier], [.. _transfers.Values]);

    /// <summary>Loads an image into this ledger, which must be empty.</summary>
    public void Restore(LedgerImage image)
    {
        if (_accounts.Count > 0 || _transfers.Count > 0 || _earlier.Count > 0)
        {
            throw new InvalidOperationException("An image is restored into an empty ledger only.");
        }
        foreach (var a in image.Accounts)
        {
            _accounts[a.AccountId] = a with { Guard = guardOf(a.AccountId) };
            CheckInvariants(_accounts[a.AccountId]);
        }
        foreach (var p in image.Pendings)
        {
            _pending[p.Transfer.TransferId] = (p.Transfer, p.Closed);
        }
        foreach (var (id, fingerprint) in image.Fingerprints)
        {
            _earlier[id] = fingerprint;
        }
    }

    /// <summary>
    /// Drops a settled scope (an archived order): the transfers and pending transfers whose ids <paramref name="inScope"/> names,
    /// fingerprints included, and <paramref name="accounts"/>, which must be at zero (nothing posted net, nothing pending) and every
    /// pending transfer closed; otherwise nothing is dropped. Balances of every other account are untouched, so each currency
    /// still sums to zero. What was dropped is taken back with <see cref="Adopt"/> from the stored transfers.
    /// </summary>
    public void Forget(Func<string, bool> inScope, IReadOnlyCollection<string> accounts)
    {
        foreach (var id in accounts)
        {
            if (_accounts.TryGetValue(id, out var a) && (a.Posted != 0 || a.DebitsPending != 0 || a.CreditsPending != 0))
            {
                throw new InvalidOperationException($"Account {id} still holds money ({a}); it is not dropped.");
            }
        }
        var pendings = _pending.Where(p => inScope(p.Key)).ToArray();
        if (pendings.FirstOrDefault(p => !p.Value.Closed) is { Key: { } open })
        {
            throw new InvalidOperationException($"Pending transfer {open} is still open; its scope is not dropped.");
        }
        foreach (var id in accounts)
        {
            _accounts.Remove(id);
        }
        foreach (var (id, _) in pendings)
        {
            _pending.Remove(id);
        }
        foreach (var id in _transfers.Keys.Where(inScope).ToArray())
        {
            _transfers.Remove(id);
        }
        foreach (var id in _earlier.Keys.Where(inScope).ToArray())
        {
            _earlier.Remove(id);
        }
    }

    /// <summary>
    /// Takes back a scope dropped by <see cref="Forget"/>: <paramref name="scope"/> is a ledger that applied that scope's stored
    /// transfers alone; its transfers and pending transfers join this ledger, and of its accounts only <paramref name="accounts"/>
    /// (the scope's own, whose balances come from its transfers alone). The shared accounts it touched already hold those
    /// transfers here. Refused, changing nothing, if this ledger already knows one of the transfers or accounts.
    /// </summary>
    public void Adopt(Ledger scope, IReadOnlyCollection<string> accounts)
    {
        if (scope._transfers.Keys.FirstOrDefault(Contains) is { } known)
        {
            throw new InvalidOperationException($"Transfer {known} is already in the ledger; the scope is not taken back.");
        }
        if (accounts.FirstOrDefault(_accounts.ContainsKey) is { } existing)
        {
            throw new InvalidOperationException($"Account {existing} is already in the ledger; the scope is not taken back.");
        }
        foreach (var (id, t) in scope._transfers)
        {
            _transfers[id] = t;
        }
        foreach (var (id, p) in scope._pending)
        {
            _pending[id] = p;
        }
        foreach (var id in accounts)
        {
            if (scope._accounts.TryGetValue(id, out var a))
            {
                _accounts[id] = a with { Guard = guardOf(id) };
                CheckInvariants(_accounts[id]);
            }
        }
    }

    /// <summary>A stable 64-bit digest of a transfer (SHA-256 of its fields), the same on every machine and run.</summary>
    public static long Fingerprint(Transfer t)
    {
        var text = string.Join('\n', t.TransferId, t.Kind.ToString(), t.DebitAccount, t.CreditAccount,
            t.Amount.ToString(System.Globalization.CultureInfo.InvariantCulture), t.Currency, t.PendingId ?? "");
        return BitConverter.ToInt64(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)), 0);
    }

    /// <summary>Per currency, posted and pending amounts over all accounts sum to zero: money is only ever moved.</summary>
    public IReadOnlyDictionary<string, (long Posted, long Pending)> TotalsByCurrency() =>
        _accounts.Values.GroupBy(a => a.Currency, StringComparer.Ordinal).ToDictionary(
            g => g.Key,
            g => (g.Sum(a => a.CreditsPosted - a.DebitsPosted), g.Sum(a => a.CreditsPending - a.DebitsPending)),
            StringComparer.Ordinal);
}

/// <summary>A ledger's state copied at one moment (<see cref="Ledger.CaptureState"/>); every part is immutable.</summary>
public sealed class LedgerCapture(
    AccountBalance[] accounts,
    (Transfer Pending, bool Closed)[] pendings,
    KeyValuePair<string, long>[] earlier,
    Transfer[] transfers)
{
    /// <summary>The image, in a stable order (accounts, pendings and fingerprints by id).</summary>
    public LedgerImage ToImage()
    {
        var fingerprints = new KeyValuePair<string, long>[earlier.Length + transfers.Length];
        earlier.CopyTo(fingerprints, 0);
        for (var i = 0; i < transfers.Length; i++)
        {
            fingerprints[earlier.Length + i] = KeyValuePair.Create(transfers[i].TransferId, Ledger.Fingerprint(transfers[i]));
        }
        Array.Sort(fingerprints, (a, b) => string.CompareOrdinal(a.Key, b.Key));
        var sortedAccounts = accounts.ToArray();
        Array.Sort(sortedAccounts, (a, b) => string.CompareOrdinal(a.AccountId, b.AccountId));
        var pendingImages = pendings.Select(p => new LedgerImage.PendingImage(p.Pending, p.Closed)).ToArray();
        Array.Sort(pendingImages, (a, b) => string.CompareOrdinal(a.Transfer.TransferId, b.Transfer.TransferId));
        return new LedgerImage(sortedAccounts, pendingImages, fingerprints.ToDictionary(StringComparer.Ordinal));
    }
}
