using Orleans.Trade.Payments;

namespace Orleans.Trade.Tests.Payments;

public sealed class PaymentTransitionsTests
{
    public static TheoryData<PaymentStatus, ProviderPaymentStatus, PaymentStatus> Moves() => new()
    {
        { PaymentStatus.Pending, ProviderPaymentStatus.Authorized, PaymentStatus.Authorized },
        { PaymentStatus.Pending, ProviderPaymentStatus.Declined, PaymentStatus.Failed },
        { PaymentStatus.Pending, ProviderPaymentStatus.RequiresAction, PaymentStatus.RequiresAction },
        { PaymentStatus.Pending, ProviderPaymentStatus.AwaitingTransfer, PaymentStatus.AwaitingTransfer },
        { PaymentStatus.Pending, ProviderPaymentStatus.Processing, PaymentStatus.Pending },
        { PaymentStatus.RequiresAction, ProviderPaymentStatus.Authorized, PaymentStatus.Authorized },
        { PaymentStatus.RequiresAction, ProviderPaymentStatus.Declined, PaymentStatus.Failed },
        { PaymentStatus.AwaitingTransfer, ProviderPaymentStatus.Captured, PaymentStatus.Captured },
        { PaymentStatus.AwaitingTransfer, ProviderPaymentStatus.Expired, PaymentStatus.Expired },
        { PaymentStatus.Authorized, ProviderPaymentStatus.Captured, PaymentStatus.Captured },
        { PaymentStatus.Authorized, ProviderPaymentStatus.Voided, PaymentStatus.Voided },
        // Stale or repeated outcomes move nothing backwards.
        { PaymentStatus.Authorized, ProviderPaymentStatus.RequiresAction, PaymentStatus.Authorized },
        { PaymentStatus.Authorized, ProviderPaymentStatus.Declined, PaymentStatus.Authorized },
        { PaymentStatus.Captured, ProviderPaymentStatus.Authorized, PaymentStatus.Captured },
        { PaymentStatus.Captured, ProviderPaymentStatus.Voided, PaymentStatus.Captured },
        { PaymentStatus.AwaitingTransfer, ProviderPaymentStatus.Declined, PaymentStatus.AwaitingTransfer },
    };

    [Theory]
    [MemberData(nameof(Moves))]
    public void A_provider_outcome_moves_a_payment_forward_only(PaymentStatus from, ProviderPaymentStatus outcome, PaymentStatus expected) =>
        Assert.Equal(expected, PaymentTransitions.Next(from, outcome));

    [Fact]
    public void Final_statuses_never_change_on_any_outcome()
    {
        foreach (var final in Enum.GetValues<PaymentStatus>().Where(PaymentTransitions.IsFinal))
        {
            Assert.All(Enum.GetValues<ProviderPaymentStatus>(), outcome => Assert.Equal(final, PaymentTransitions.Next(final, outcome)));
        }
    }

    [Fact]
    public void Captured_is_reached_only_by_a_capture_outcome()
    {
        foreach (var from in Enum.GetValues<PaymentStatus>().Where(s => s != PaymentStatus.Captured))
        {
            foreach (var outcome in Enum.GetValues<ProviderPaymentStatus>().Where(o => o != ProviderPaymentStatus.Captured))
            {
                Assert.NotEqual(PaymentStatus.Captured, PaymentTransitions.Next(from, outcome));
            }
        }
    }
}
