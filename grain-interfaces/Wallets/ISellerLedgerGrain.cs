using Orleans.Trade.Common;

namespace Orleans.Trade.Wallets;

/// <summary>One account of a seller's ledger as the API shows it.</summary>
[GenerateSerializer, Immutable]
public sealed record LedgerAccountView(
    [property: Id(0)] string AccountId,
    [property: Id(1)] string Currency,
    [property: Id(2)] long Posted,
    [property: Id(3)] long PendingIn,
    [property: Id(4)] long PendingOut);

/// <summary>What a seller's escrow accounts hold in one currency, and for how many orders.</summary>
[GenerateSerializer, Immutable]
public sealed record EscrowHeld(
    [property: Id(0)] string Currency,
    [property: Id(1)] long AmountMinor,
    [property: Id(2)] int Orders);

/// <summary>
/// A seller's ledger as the API shows it: every account but the order escrows, one page of escrow accounts (see
/// <see cref="ISellerLedgerGrain.View"/>), how many escrow accounts the books hold, what they hold per currency, and the cursor
/// of the next page of escrows (null on the last).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record SellerLedgerView(
    [property: Id(0)] IReadOnlyList<LedgerAccountView> Accounts,
    [property: Id(1)] int EscrowAccounts,
    [property: Id(2)] IReadOnlyList<EscrowHeld> Held,
    [property: Id(3)] string? NextEscrowCursor);

/// <summary>The escrow release of one order: how the escrowed amount is divided (see SettlementSplit).</summary>
[GenerateSerializer, Immutable]
public sealed record EscrowRelease(
    [property: Id(0)] string OrderId,
    [property: Id(1)] Money Commission,
    [property: Id(2)] Money LogisticsFee,
    [property: Id(3)] Money TaxPayable,
    [property: Id(4)] string? TaxCountry,
    [property: Id(5)] Money SellerNet);

/// <summary>
/// The double-entry ledger of one seller's money (R-ROLE-1, R-SET-1): order escrows, the seller's pending, available and
/// deposit balances, and the platform's commission, logistics and tax accounts for this seller's orders. Key: seller id.
/// Every operation has a fixed transfer id derived from the order, so retries are no-ops; every answer follows the write.
/// </summary>
/// <remarks>
/// Version 1 added <see cref="View"/>; <see cref="Balances"/> stays for the previous release's silos during a rolling update
/// (Orleans serves a version-1 caller only from a version-1 activation, and a version-0 caller from either). Version 2 added
/// <see cref="Compensate"/> and <see cref="QuoteCompensation"/>, version 3 <see cref="ChargeFee"/> and <see cref="QuoteFee"/>.
/// </remarks>
[Orleans.CodeGeneration.Version(3)]
public interface ISellerLedgerGrain : IGrainWithStringKey
{
    /// <summary>The buyer's payment is held in the order's escrow as a pending transfer.</summary>
    Task HoldInEscrow(string orderId, Money amount);

    /// <summary>Posts the escrow and splits it: commission, logistics, tax, and the rest to the seller's pending balance.</summary>
    Task ReleaseEscrow(EscrowRelease release);

    /// <summary>Voids the escrow (order cancelled before release): the money goes back to the buyer's side.</summary>
    Task VoidEscrow(string orderId);

    /// <summary>Every account, escrows included, for the previous release's silos only: this release asks <see cref="View"/>.</summary>
    [ReadOnly]
    Task<IReadOnlyList<LedgerAccountView>> Balances();

    /// <summary>
    /// Every account but the order escrows, and the escrow accounts after <paramref name="escrowCursor"/> (an escrow account id,
    /// null from the first) in id order, at most <paramref name="escrowLimit"/>: a flash sale's seller holds an escrow account per
    /// paid order, too many to list at once.
    /// </summary>
    [ReadOnly]
    Task<SellerLedgerView> View(string? escrowCursor, int escrowLimit);

    /// <summary>Pays out from the seller's available balance; the caller has checked the second factor.</summary>
    Task<WithdrawalResult> Withdraw(string withdrawalId, Money amount);

    /// <summary>
    /// True when a withdrawal with this id was booked: sent again, it moves no money (<see cref="Withdraw"/> answers it as
    /// applied before, or refused for another amount), so its retry needs no second factor.
    /// </summary>
    [ReadOnly]
    Task<bool> HasWithdrawal(string withdrawalId);

    /// <summary>
    /// Books a refund to the buyer (R-SET-3), all or nothing: before release it comes out of the order's escrow; after release
    /// from the seller's available balance, then the deposit, converted into the seller's settlement currency.
    /// </summary>
    Task<LedgerRefundResult> Refund(LedgerRefund refund);

    /// <summary>Money the seller (or the platform for them) puts on deposit, which backs refunds after release.</summary>
    Task FundDeposit(string depositId, Money amount);

    /// <summary>
    /// Books a compensation to the buyer (R-DIS-4), all or nothing: paid by the seller, first from the deposit, then the available
    /// balance (settlement currency, current rate), never from pending money or the order's escrow, which it leaves as it is.
    /// </summary>
    Task<LedgerCompensationResult> Compensate(LedgerCompensation compensation);

    /// <summary>What <see cref="Compensate"/> would answer now, changing nothing: the order checks before it stores a verdict.</summary>
    Task<LedgerCompensationResult> QuoteCompensation(LedgerCompensation compensation);

    /// <summary>
    /// Books a fee of one order to the platform (R-DIS-6: a dispute's inspection), all or nothing, idempotent by its fee id: paid by
    /// the seller like a compensation (deposit first, then the available balance, never pending money or the escrow), or kept from
    /// the buyer's refund of the order, which must be booked first. Answered like a compensation.
    /// </summary>
    Task<LedgerCompensationResult> ChargeFee(LedgerFee fee);

    /// <summary>What <see cref="ChargeFee"/> would answer now, changing nothing: the order checks before it stores a verdict.</summary>
    Task<LedgerCompensationResult> QuoteFee(LedgerFee fee);
}

/// <summary>Who pays a <see cref="LedgerFee"/>: the seller's own money, or the buyer's refund of the order (kept back from it).</summary>
public enum LedgerFeePayer { Seller, BuyerRefund }

/// <summary>A fee of <paramref name="Amount"/> (in the order's currency) for one order, to the platform, paid by <paramref name="Payer"/>.</summary>
[GenerateSerializer, Immutable]
public sealed record LedgerFee(
    [property: Id(0)] string OrderId,
    [property: Id(1)] string FeeId,
    [property: Id(2)] Money Amount,
    [property: Id(3)] LedgerFeePayer Payer);

/// <summary>A compensation of <paramref name="Amount"/> (in the order's currency) to the buyer of one order, paid by its seller.</summary>
[GenerateSerializer, Immutable]
public sealed record LedgerCompensation(
    [property: Id(0)] string OrderId,
    [property: Id(1)] string CompensationId,
    [property: Id(2)] Money Amount);

/// <summary>What of the seller's money paid a compensation, in the seller's settlement currency.</summary>
[GenerateSerializer, Immutable]
public sealed record CompensationFunding(
    [property: Id(0)] Money FromDeposit,
    [property: Id(1)] Money FromAvailable);

public enum LedgerCompensationStatus
{
    Applied,
    /// <summary>This compensation id was booked before: nothing changed.</summary>
    AlreadyApplied,
    /// <summary>The seller's deposit and available balance together do not cover it: nothing changed.</summary>
    InsufficientFunds,
    /// <summary>The ledger holds no money of this order (never paid through the platform): nothing changed.</summary>
    UnknownOrder,
}

/// <summary>
/// The answer to a compensation: for one applied (or quoted), what pays it (<see cref="Funding"/>; for one applied before, null when
/// the books no longer hold its transfers in memory); for one refused, the <see cref="Charge"/> and what the deposit and the
/// available balance hold, all in the settlement currency.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record LedgerCompensationResult(
    [property: Id(0)] LedgerCompensationStatus Status,
    [property: Id(1)] CompensationFunding? Funding = null,
    [property: Id(2)] Money? Charge = null,
    [property: Id(3)] Money? Deposit = null,
    [property: Id(4)] Money? Available = null);

public enum WithdrawalResult { Applied, AlreadyApplied, InsufficientFunds, Refused }

/// <summary>A refund of <paramref name="Amount"/> (in the order's currency, the currency held in escrow) for one order.</summary>
[GenerateSerializer, Immutable]
public sealed record LedgerRefund(
    [property: Id(0)] string OrderId,
    [property: Id(1)] string RefundId,
    [property: Id(2)] Money Amount);

public enum LedgerRefundResult
{
    Applied,
    /// <summary>This refund id was booked before: nothing changed.</summary>
    AlreadyApplied,
    /// <summary>After release, the seller's available balance and deposit together do not cover it: nothing changed.</summary>
    InsufficientFunds,
    /// <summary>More than the order still has to give back (escrow, or what was released): nothing changed.</summary>
    ExceedsPaid,
}
