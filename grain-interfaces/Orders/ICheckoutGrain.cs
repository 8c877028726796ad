namespace Orleans.Trade.Orders;

/// <summary>A checkout request as the caller sent it, normalised; <see cref="RequestHash"/> identifies the body.</summary>
[GenerateSerializer, Immutable]
public sealed record CheckoutCommand(
    [property: Id(0)] string BuyerId,
    [property: Id(1)] string Currency,
    [property: Id(2)] ShippingAddress ShipTo,
    [property: Id(3)] IReadOnlyList<CartLine> Items,
    [property: Id(4)] string? CouponCode,
    [property: Id(5)] string RequestHash,
    [property: Id(6)] string Actor,
    /// <summary>An inline payment: a cart of one order registers it in the order's placing write (not part of the request hash).</summary>
    [property: Id(7)] PaymentRegistrationRequest? Payment = null,
    /// <summary>The ad channel and campaign that brought the buyer (part of the request hash): kept on every order placed.</summary>
    [property: Id(8)] OrderAttribution? Attribution = null);

public enum CheckoutStatus
{
    Created,
    /// <summary>Some line could not be had; nothing was reserved.</summary>
    OutOfStock,
    /// <summary>A rule refused the cart (unknown SKU, mixed currencies of one seller, ...); nothing was reserved.</summary>
    Refused,
    /// <summary>The idempotency key was used before with a different body.</summary>
    KeyReused,
}

[GenerateSerializer, Immutable]
public sealed record CheckoutResult(
    [property: Id(0)] CheckoutStatus Status,
    [property: Id(1)] string CheckoutId,
    [property: Id(2)] IReadOnlyList<OrderView> Orders,
    [property: Id(3)] IReadOnlyList<ShortLine> ShortLines,
    [property: Id(4)] string? Reason,
    /// <summary>The inline payment's registration when the order's placement carried it; otherwise the caller registers it.</summary>
    [property: Id(5)] PaymentRegistration? Payment = null);

/// <summary>
/// One idempotent checkout. Key: "{caller scope}/{Idempotency-Key}", so keys are scoped to the caller. The first call runs
/// the saga (prepare every seller's order, then confirm all or abort all) and stores the answer; later calls with the same
/// body get the stored answer, with another body <see cref="CheckoutStatus.KeyReused"/>.
/// Version 1: the command carries the buyer's ad attribution (<see cref="CheckoutCommand.Attribution"/>), which an activation of an
/// older release would drop, so a caller of this release is served by an activation on a silo of this release.
/// </summary>
[Orleans.CodeGeneration.Version(1)]
public interface ICheckoutGrain : IGrainWithStringKey
{
    Task<CheckoutResult> Checkout(CheckoutCommand command);
}

/// <summary>A checkout sent straight to the SKU of its one line (see ISkuGrain.PlaceOrder); the key is the checkout grain's key.</summary>
[GenerateSerializer, Immutable]
public sealed record SkuCheckout(
    [property: Id(0)] string CheckoutKey,
    [property: Id(1)] CheckoutCommand Command);

/// <summary>
/// Deduplicates imported orders (R-ORD-4). Key: "{seller id}/{platform}/{external order id}" (two shops on one platform may
/// number their orders alike); imports stored before 6 December are keyed "{platform}/{external order id}".
/// </summary>
public interface IOrderImportGrain : IGrainWithStringKey
{
    Task<CheckoutResult> Import(OrderImportCommand command);

    /// <summary>
    /// True when this (earlier, seller-less) key holds an import of <paramref name="sellerId"/> or one with the same content
    /// hash: that import is still answered here, so an ERP sending it again gets the same order.
    /// </summary>
    [ReadOnly]
    Task<bool> Holds(string sellerId, string requestHash);
}

[GenerateSerializer, Immutable]
public sealed record OrderImportCommand(
    [property: Id(0)] string SellerId,
    [property: Id(1)] string BuyerId,
    [property: Id(2)] string Currency,
    [property: Id(3)] ShippingAddress ShipTo,
    [property: Id(4)] IReadOnlyList<CartLine> Items,
    [property: Id(5)] ExternalOrderRef External,
    [property: Id(6)] string RequestHash,
    [property: Id(7)] string Actor);
