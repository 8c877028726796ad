using Orleans.Trade.Common;

namespace Orleans.Trade.Orders;

[GenerateSerializer]
public sealed class OrderImportState
{
    [Id(0)] public string? RequestHash { get; set; }
    [Id(1)] public string? OrderId { get; set; }
    [Id(2)] public CheckoutResult? Answer { get; set; }
}

/// <summary>
/// R-ORD-4: an order from another marketplace, keyed by platform and external id, so a re-sent import never makes a second order.
/// It deducts stock like any order; orders paid on the other platform go straight to the seller. Only an imported order is kept:
/// an import refused or expired leaves nothing behind, and sending it again tries again.
/// </summary>
public sealed class OrderImportGrain(
    [PersistentState(stateName: "order-import", storageName: StorageNames.Trade)] IPersistentState<OrderImportState> state,
    TradeClock clock) : Grain, IOrderImportGrain
{
    public Task<bool> Holds(string sellerId, string requestHash) => Task.FromResult(
        state.State.RequestHash == requestHash || state.State.Answer?.Orders.FirstOrDefault()?.SellerId == sellerId);

    public async Task<CheckoutResult> Import(OrderImportCommand command)
    {
        var s = state.State;
        if (s.RequestHash is not null && s.RequestHash != command.RequestHash)
        {
            if (s.Answer is null && await GrainFactory.GetGrain<IOrderGrain>(s.OrderId!).Get() is null)
            {
                // An earlier attempt failed before it was acknowledged (a storage fault, a crash) and its order never went live:
                // nothing was imported, so the corrected order the ERP sends now is imported instead. The old placement is given up
                // first, so that it can no longer be confirmed and its held units go back.
                await GrainFactory.GetGrain<IOrderGrain>(s.OrderId!).Abort("superseded by a corrected import");
                s.OrderId = null;
                s.RequestHash = null;
            }
            else
            {
                return new CheckoutResult(CheckoutStatus.KeyReused, s.OrderId!, [], [],
                    $"Order {command.External.ExternalOrderId} of {command.External.Platform} was imported before with different content.");
            }
        }
        if (s.Answer is not null)
        {
            return s.Answer;
        }
        if (s.OrderId is null)
        {
            s.RequestHash = command.RequestHash;
            s.OrderId = Ulid.NewUlid(clock.GetUtcNow()).ToString();
            await state.WriteOrReloadAsync(this);
        }
        var placement = new OrderPlacement(s.OrderId, s.OrderId, command.BuyerId, command.SellerId, command.Currency, command.ShipTo,
            command.Items, OrderSource.Import, command.External, command.Actor, null);
        var order = GrainFactory.GetGrain<IOrderGrain>(s.OrderId);
        var prepared = await order.Prepare(placement);
        CheckoutResult answer;
        if (prepared.Status == PrepareStatus.Prepared && await order.Confirm() is { } confirmed)
        {
            answer = new CheckoutResult(CheckoutStatus.Created, s.OrderId, [confirmed], [], null);
        }
        else if (prepared.Status is PrepareStatus.Prepared or PrepareStatus.Expired)
        {
            // The placement timed out and was abandoned: forget it, so that sending the import again starts a fresh order.
            var expired = new CheckoutResult(CheckoutStatus.Refused, s.OrderId, [], [], "The import took too long and expired; send it again.");
            s.OrderId = null;
            s.RequestHash = null;
            await state.WriteOrReloadAsync(this);
            return expired;
        }
        else
        {
            // Refused (stock short, an unknown SKU, a rule): nothing was imported. The refusal is not kept, so the ERP can send
            // the order again once the stock or the catalog is there, with the same content or a corrected one.
            await order.Abort("import could not be fulfilled");
            var refused = prepared.Status == PrepareStatus.Short
                ? new CheckoutResult(CheckoutStatus.OutOfStock, s.OrderId, [], prepared.ShortLines, "Some lines cannot be had; nothing was reserved.")
                : new CheckoutResult(CheckoutStatus.Refused, s.OrderId, [], [], prepared.Reason);
            s.OrderId = null;
            s.RequestHash = null;
            await state.WriteOrReloadAsync(this);
            return refused;
        }
        s.Answer = answer;
        await state.WriteOrReloadAsync(this);
        return answer;
    }
}
