using Orleans.Trade.Common;

namespace Orleans.Trade.Payments.Sandbox;

[GenerateSerializer]
public sealed class SandboxPspTransferState
{
    [Id(0)] public string? PaymentReference { get; set; }
}

public sealed class SandboxPspTransferGrain(
    [PersistentState(stateName: "sandboxPspTransfer", storageName: StorageNames.Trade)] IPersistentState<SandboxPspTransferState> state)
    : Grain, ISandboxPspTransferGrain
{
    public async Task<string> Bind(string paymentReference)
    {
        if (state.State.PaymentReference is { } bound)
        {
            return bound;
        }
        state.State.PaymentReference = paymentReference;
        await state.WriteOrReloadAsync(this);
        return paymentReference;
    }

    public Task<string?> PaymentReference() => Task.FromResult(state.State.PaymentReference);
}
