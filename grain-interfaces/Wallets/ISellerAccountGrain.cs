namespace Orleans.Trade.Wallets;

[GenerateSerializer, Immutable]
public sealed record TotpEnrollment(
    [property: Id(0)] string SecretBase32,
    [property: Id(1)] string OtpAuthUri);

public enum SecondFactorResult { Verified, NotEnrolled, Invalid, Replayed }

/// <summary>Where payouts go. Only the last four characters of the account number are ever shown; it is stored sealed.</summary>
[GenerateSerializer, Immutable]
public sealed record PayoutAccountView(
    [property: Id(0)] string HolderName,
    [property: Id(1)] string BankCountry,
    [property: Id(2)] string Currency,
    [property: Id(3)] string AccountLast4,
    [property: Id(4)] DateTimeOffset ChangedAt);

/// <summary>How and when a seller is paid (R-SET-1, R-SET-2, R-PAY-2).</summary>
/// <param name="CycleDays">T+N: days from release until the seller's net becomes available.</param>
/// <param name="Currency">The settlement currency the seller's net is converted into at release; null: the order's own currency.</param>
[GenerateSerializer, Immutable]
public sealed record SettlementSettings(
    [property: Id(0)] int CycleDays,
    [property: Id(1)] string? Currency);

public enum SettlementChange
{
    Applied,
    /// <summary>Neither a cycle nor a currency was given.</summary>
    Empty,
    CycleOutOfRange,
    /// <summary>Not an ISO 4217 code we support.</summary>
    UnknownCurrency,
    /// <summary>No exchange rate to this currency, so no order could be converted into it.</summary>
    NoFxRate,
}

/// <summary>
/// A seller's account settings (R-SET-1, R-SET-2, R-PAY-4): the settlement cycle (T+1 to T+30) and currency, and the TOTP second factor that
/// withdrawals and payout-account changes require. Key: seller id. The TOTP secret is stored encrypted.
/// </summary>
/// <remarks>Version 1 (7 December) adds <see cref="VerifySecondFactorFor"/>; <see cref="VerifySecondFactor"/> stays for the
/// previous release's silos during a rolling update. Version 2 adds <see cref="SettlementCycles"/>; <see cref="SettlementCycleDays"/>
/// stays for the same reason.</remarks>
[Orleans.CodeGeneration.Version(2)]
public interface ISellerAccountGrain : IGrainWithStringKey
{
    Task SetSettlementCycle(int days);

    [ReadOnly]
    Task<int> SettlementCycleDays();

    /// <summary>
    /// The cycles in force over time, oldest first: money released at a time matures after the cycle in force then, so a
    /// change applies to releases from then on, never to money already pending (a seller shortening its own cycle cannot free
    /// the money the cycle holds back).
    /// </summary>
    [ReadOnly]
    Task<SettlementCycleHistory> SettlementCycles();

    /// <summary>Changes the cycle, the currency, or both (null leaves a setting as it is); all or nothing.</summary>
    Task<SettlementChange> ChangeSettlement(int? cycleDays, string? currency);

    [ReadOnly]
    Task<SettlementSettings> Settlement();

    /// <summary>
    /// Starts (or restarts) enrolment: a new secret, shown once, active after <see cref="ConfirmTotp"/>; a confirmed secret it
    /// replaces stays in force until then.
    /// </summary>
    Task<TotpEnrollment> BeginTotpEnrollment();

    Task<SecondFactorResult> ConfirmTotp(string code);

    /// <summary>Checks a code for a sensitive action; each code is accepted once.</summary>
    Task<SecondFactorResult> VerifySecondFactor(string code);

    /// <summary>
    /// Checks a code for an action that may be retried (<paramref name="action"/> names it whole: a withdrawal's id, amount and
    /// currency): the code is accepted once, and again only for the same action, so a retry after a failure that followed the
    /// check is not refused, while the code does nothing else.
    /// </summary>
    Task<SecondFactorResult> VerifySecondFactorFor(string code, string action);

    /// <summary>Changes the payout account; needs a valid second-factor code in the same call.</summary>
    Task<(SecondFactorResult SecondFactor, PayoutAccountView? Account)> ChangePayoutAccount(
        string holderName, string bankCountry, string currency, string accountNumber, string totpCode);

    [ReadOnly]
    Task<PayoutAccountView?> PayoutAccount();
}

/// <summary>One cycle and when it came into force (<see cref="DateTimeOffset.MinValue"/>: since ever).</summary>
[GenerateSerializer, Immutable]
public sealed record SettlementCycleChange(
    [property: Id(0)] DateTimeOffset From,
    [property: Id(1)] int Days);

/// <summary>The cycles of a seller in the order they came into force; the first is in force since ever.</summary>
[GenerateSerializer, Immutable]
public sealed record SettlementCycleHistory([property: Id(0)] IReadOnlyList<SettlementCycleChange> Changes)
{
    /// <summary>The cycle in force at <paramref name="releasedAt"/>.</summary>
    public TimeSpan At(DateTimeOffset releasedAt)
    {
        var days = Changes[0].Days;
        foreach (var change in Changes)
        {
            if (change.From > releasedAt)
            {
                break;
            }
            days = change.Days;
        }
        return TimeSpan.FromDays(days);
    }
}

public static class SettlementCycle
{
    public const int MinDays = 1;
    public const int MaxDays = 30;
}
