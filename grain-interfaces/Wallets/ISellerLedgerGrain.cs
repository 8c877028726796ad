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
public interface ISellerLedgerGrain : IGrainWithStringKey
{
    /// <summary>The buyer's payment is held in the order's escrow as a pending transfer.</summary>
    Task HoldInEscrow(string orderId, Money amount);

    /// <summary>Posts the escrow and splits it: commission, logistics, tax, and the rest to the seller's pending balance.</summary>
    Task ReleaseEscrow(EscrowRelease release);

    /// <summary>Voids the escrow (order cancelled before release): the money goes back to the buyer's side.</summary>
    Task VoidEscrow(string orderId);

    [ReadOnly]
    Task<IReadOnlyList<LedgerAccountView>> Balances();

    /// <summary>Pays out from the seller's available balance; the caller has checked the second factor.</summary>
    Task<WithdrawalResult> Withdraw(string withdrawalId, Money amount);
}

public enum WithdrawalResult { Applied, AlreadyApplied, InsufficientFunds, Refused }
