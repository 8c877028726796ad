using Microsoft.Extensions.Options;
using Orleans.Trade.Common;
using Orleans.Trade.Payments;

namespace Orleans.Trade.Wallets;

[GenerateSerializer]
public sealed class SellerAccountState
{
    [Id(0)] public int? SettlementCycleDays { get; set; }
    /// <summary>The TOTP secret sealed by <see cref="SecretBox"/>; never in clear.</summary>
    [Id(1)] public byte[]? SealedTotpSecret { get; set; }
    [Id(2)] public bool TotpConfirmed { get; set; }
    /// <summary>The last accepted TOTP step: a code is good once.</summary>
    [Id(3)] public long LastTotpStep { get; set; }
    [Id(4)] public PayoutAccountView? PayoutAccount { get; set; }
    /// <summary>The full account number, sealed; only <see cref="PayoutAccountView.AccountLast4"/> is ever shown.</summary>
    [Id(5)] public byte[]? SealedAccountNumber { get; set; }
    /// <summary>R-SET-2: null until chosen, meaning each order settles in its own currency.</summary>
    [Id(6)] public string? SettlementCurrency { get; set; }
    /// <summary>When the wrong second-factor codes of the last <c>FailedCodeWindow</c> were tried, oldest first.</summary>
    [Id(7)] public List<DateTimeOffset>? FailedCodes { get; set; }
    /// <summary>
    /// What the code of <see cref="LastTotpStep"/> was used for, when that action may be retried with it (a withdrawal whose
    /// booking failed after its code was used); null when it was used for anything else.
    /// </summary>
    [Id(8)] public string? LastTotpAction { get; set; }
    /// <summary>
    /// A new TOTP secret, sealed, replacing the confirmed one once confirmed; until then the confirmed one stays in force, so
    /// starting again still needs a code from it.
    /// </summary>
    [Id(9)] public byte[]? SealedPendingTotpSecret { get; set; }
    /// <summary>
    /// Cycle changes, oldest first, each with when it came into force (days null: the configured default); null until the first
    /// change since 7 December, the cycle in force before it counting since ever. Kept as far back as money can still mature.
    /// </summary>
    [Id(10)] public List<CycleEntry>? CycleChanges { get; set; }
}

[GenerateSerializer]
public sealed record CycleEntry([property: Id(0)] DateTimeOffset From, [property: Id(1)] int? Days);

public sealed class SellerAccountGrain(
    [PersistentState(stateName: "seller-account", storageName: StorageNames.Trade)] IPersistentState<SellerAccountState> state,
    SecretBox secrets,
    IOptions<SettlementOptions> settlement,
    Orders.IFxRates fxRates,
    TradeClock clock) : Grain, ISellerAccountGrain
{
    public async Task SetSettlementCycle(int days)
    {
        if (days is < SettlementCycle.MinDays or > SettlementCycle.MaxDays)
        {
            throw new ArgumentOutOfRangeException(nameof(days), $"A settlement cycle is T+{SettlementCycle.MinDays} to T+{SettlementCycle.MaxDays}.");
        }
        ChangeCycle(days);
        await state.WriteOrReloadAsync(this);
    }

    public Task<int> SettlementCycleDays() => Task.FromResult(state.State.SettlementCycleDays ?? settlement.Value.DefaultCycleDays);

    public Task<SettlementCycleHistory> SettlementCycles()
    {
        var defaultDays = settlement.Value.DefaultCycleDays;
        IReadOnlyList<SettlementCycleChange> changes = state.State.CycleChanges is { Count: > 0 } entries
            ? entries.Select(e => new SettlementCycleChange(e.From, e.Days ?? defaultDays)).ToArray()
            : [new SettlementCycleChange(DateTimeOffset.MinValue, state.State.SettlementCycleDays ?? defaultDays)];
        return Task.FromResult(new SettlementCycleHistory(changes));
    }

    /// <summary>Sets the cycle in force from now on, keeping the ones before as long as money released under them may still be pending.</summary>
    private void ChangeCycle(int days)
    {
        if (state.State.SettlementCycleDays == days)
        {
            return;
        }
        var now = clock.GetUtcNow();
        var changes = state.State.CycleChanges ??= [new CycleEntry(DateTimeOffset.MinValue, state.State.SettlementCycleDays)];
        changes.Add(new CycleEntry(now, days));
        // Money released before the last change at least MaxDays old has matured under any cycle: the changes before it are spent.
        var cutoff = now - TimeSpan.FromDays(SettlementCycle.MaxDays + 1);
        var spent = changes.FindLastIndex(c => c.From <= cutoff);
        if (spent > 0)
        {
            changes.RemoveRange(0, spent);
            changes[0] = changes[0] with { From = DateTimeOffset.MinValue };
        }
        state.State.SettlementCycleDays = days;
    }

    public async Task<SettlementChange> ChangeSettlement(int? cycleDays, string? currency)
    {
        if (cycleDays is null && currency is null)
        {
            return SettlementChange.Empty;
        }
        if (cycleDays is < SettlementCycle.MinDays or > SettlementCycle.MaxDays)
        {
            return SettlementChange.CycleOutOfRange;
        }
        if (currency is not null && !Iso4217.IsKnown(currency))
        {
            return SettlementChange.UnknownCurrency;
        }
        if (currency is not null && !fxRates.TryGetRate("USD", currency, out _, out _))
        {
            return SettlementChange.NoFxRate;
        }
        if (cycleDays is { } days)
        {
            ChangeCycle(days);
        }
        state.State.SettlementCurrency = currency ?? state.State.SettlementCurrency;
        await state.WriteOrReloadAsync(this);
        return SettlementChange.Applied;
    }

    public Task<SettlementSettings> Settlement() =>
        Task.FromResult(new SettlementSettings(state.State.SettlementCycleDays ?? settlement.Value.DefaultCycleDays, state.State.SettlementCurrency));

    private const int MaxFailedCodes = 5;
    private static readonly TimeSpan FailedCodeWindow = TimeSpan.FromMinutes(5);

    public async Task<TotpEnrollment> BeginTotpEnrollment()
    {
        var secret = Totp.NewSecret();
        if (state.State.TotpConfirmed)
        {
            // Replacing a confirmed factor: it stays in force until the new one is confirmed. Dropped at once, it left the key
            // alone able to enrol another authenticator (R-PAY-4) and the seller without a factor if it never confirmed.
            state.State.SealedPendingTotpSecret = secrets.Seal(secret);
        }
        else
        {
            state.State.SealedTotpSecret = secrets.Seal(secret);
            // A new secret's codes are not the old one's: the first code of the new one may fall in the step the last one was used in.
            state.State.LastTotpStep = 0;
            state.State.LastTotpAction = null;
        }
        await state.WriteOrReloadAsync(this);
        var base32 = Totp.Base32(secret);
        var seller = Uri.EscapeDataString(this.GetPrimaryKeyString());
        return new TotpEnrollment(base32, $"otpauth://totp/Orleans.Trade:{seller}?secret={base32}&issuer=Orleans.Trade&algorithm=SHA1&digits=6&period=30");
    }

    public Task<SecondFactorResult> ConfirmTotp(string code) => Check(code, confirming: true);

    public async Task<(SecondFactorResult SecondFactor, PayoutAccountView? Account)> ChangePayoutAccount(
        string holderName, string bankCountry, string currency, string accountNumber, string totpCode)
    {
        // The code is used and the account changed in one write: if it fails, neither is stored, and the client's retry with
        // the same code is carried out (written apart, a failed second write left the code used and the account unchanged).
        var secondFactor = await Check(totpCode, confirming: false, onVerified: () =>
        {
            state.State.PayoutAccount = new PayoutAccountView(holderName, bankCountry, currency, accountNumber[^4..], clock.GetUtcNow());
            state.State.SealedAccountNumber = secrets.Seal(System.Text.Encoding.UTF8.GetBytes(accountNumber));
        });
        return secondFactor == SecondFactorResult.Verified ? (secondFactor, state.State.PayoutAccount) : (secondFactor, null);
    }

    public Task<PayoutAccountView?> PayoutAccount() => Task.FromResult(state.State.PayoutAccount);

    public Task<SecondFactorResult> VerifySecondFactor(string code) => Check(code, confirming: false);

    public Task<SecondFactorResult> VerifySecondFactorFor(string code, string action) => Check(code, confirming: false, action);

    /// <param name="action">
    /// The action the code is for, when it may be retried with the same code: the code last accepted is accepted again for the
    /// same action only (its first attempt may have failed after the code was used), never for anything else.
    /// </param>
    /// <param name="onVerified">A change stored in the same write as the code's use, made only if the code is good.</param>
    private async Task<SecondFactorResult> Check(string code, bool confirming, string? action = null, Action? onVerified = null)
    {
        // A confirmation checks the replacement being enrolled, if there is one; everything else the factor in force.
        var replacement = confirming ? state.State.SealedPendingTotpSecret : null;
        if ((replacement ?? state.State.SealedTotpSecret) is not { } sealedSecret || (!confirming && !state.State.TotpConfirmed))
        {
            return SecondFactorResult.NotEnrolled;
        }
        // Six digits are a million codes, three of them accepted at a time: without a limit, a leaked API key guesses one in
        // about a minute and a half. After MaxFailedCodes wrong codes in FailedCodeWindow, every code is refused until the oldest
        // failure leaves the window. Each failure is stored before it is answered, so neither the grain leaving memory nor a
        // restart of its silo starts the count again.
        var now = clock.GetUtcNow();
        var failed = state.State.FailedCodes;
        failed?.RemoveAll(at => at <= now - FailedCodeWindow);
        if (failed is { Count: >= MaxFailedCodes })
        {
            return SecondFactorResult.Invalid;
        }
        var step = Totp.Verify(secrets.Open(sealedSecret), code, now);
        if (step is null)
        {
            (state.State.FailedCodes ??= []).Add(now);
            await state.WriteOrReloadAsync(this);
            return SecondFactorResult.Invalid;
        }
        if (replacement is not null)
        {
            // None of the replacement's codes was used before (the steps used so far are the old secret's): it takes over here.
            state.State.SealedTotpSecret = replacement;
            state.State.SealedPendingTotpSecret = null;
        }
        else if (step == state.State.LastTotpStep && action is not null && action == state.State.LastTotpAction)
        {
            return SecondFactorResult.Verified; // the same action again, with its code: already stored as used for it
        }
        else if (step <= state.State.LastTotpStep)
        {
            return SecondFactorResult.Replayed;
        }
        state.State.LastTotpStep = step.Value;
        state.State.LastTotpAction = action;
        state.State.TotpConfirmed = true;
        onVerified?.Invoke();
        await state.WriteOrReloadAsync(this);
        return SecondFactorResult.Verified;
    }
}
