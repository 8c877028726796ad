namespace Orleans.Trade.Payments;

/// <summary>
/// Where a payment goes on a provider outcome. Payments only move forward: an outcome that would move one backwards (a stale or
/// duplicate webhook, a late answer to a retried request) leaves it where it is, and final statuses never change here
/// (refunds are tracked beside the status).
/// </summary>
public static class PaymentTransitions
{
    public static PaymentStatus Next(PaymentStatus from, ProviderPaymentStatus outcome) => (from, outcome) switch
    {
        (PaymentStatus.Pending, ProviderPaymentStatus.RequiresAction) => PaymentStatus.RequiresAction,
        (PaymentStatus.Pending, ProviderPaymentStatus.AwaitingTransfer) => PaymentStatus.AwaitingTransfer,
        (PaymentStatus.Pending or PaymentStatus.RequiresAction, ProviderPaymentStatus.Authorized) => PaymentStatus.Authorized,
        (PaymentStatus.Pending or PaymentStatus.RequiresAction or PaymentStatus.AwaitingTransfer or PaymentStatus.Authorized,
            ProviderPaymentStatus.Captured) => PaymentStatus.Captured,
        (PaymentStatus.Pending or PaymentStatus.RequiresAction, ProviderPaymentStatus.Declined) => PaymentStatus.Failed,
        (PaymentStatus.Pending or PaymentStatus.RequiresAction or PaymentStatus.AwaitingTransfer or PaymentStatus.Authorized,
            ProviderPaymentStatus.Voided) => PaymentStatus.Voided,
        (PaymentStatus.Pending or PaymentStatus.AwaitingTransfer, ProviderPaymentStatus.Expired) => PaymentStatus.Expired,
        _ => from,
    };

    public static bool IsFinal(PaymentStatus status) =>
        status is PaymentStatus.Failed or PaymentStatus.Voided or PaymentStatus.Expired or PaymentStatus.Refunded;
}
