using Orleans.Trade.Common;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Logistics;

/// <summary>How a carrier's parcels are booked (R-ROLE-3): by the platform itself, or at the carrier's booking endpoint.</summary>
public enum CarrierAdapterKind
{
    /// <summary>The platform issues the tracking number itself (UPU S10 style); the carrier needs no integration.</summary>
    Platform,
    /// <summary>The parcel is posted to the carrier's booking endpoint (configured per carrier), which answers its tracking number.</summary>
    Http,
}

/// <summary>What a booking sends the carrier: the order's parcel, where it goes, and by which carrier and service.</summary>
[GenerateSerializer, Immutable]
public sealed record LabelParcel(
    [property: Id(0)] string OrderId,
    [property: Id(1)] string SellerId,
    [property: Id(2)] string CarrierId,
    [property: Id(3)] string CarrierName,
    [property: Id(4)] CarrierService Service,
    [property: Id(5)] ShippingAddress ShipTo,
    [property: Id(6)] long WeightGrams,
    [property: Id(7)] Money Value);

/// <summary>An order's booked shipment (R-LOG-4): the carrier's tracking number and what its label prints.</summary>
[GenerateSerializer, Immutable]
public sealed record ShippingLabel(
    [property: Id(0)] string OrderId,
    [property: Id(1)] string SellerId,
    [property: Id(2)] string CarrierId,
    [property: Id(3)] string CarrierName,
    [property: Id(4)] CarrierService Service,
    [property: Id(5)] string TrackingNumber,
    [property: Id(6)] CarrierAdapterKind Adapter,
    [property: Id(7)] ShippingAddress ShipTo,
    [property: Id(8)] long WeightGrams,
    [property: Id(9)] DateTimeOffset BookedAt);

public enum LabelBookingStatus
{
    /// <summary>Booked now with the carrier and stored.</summary>
    Booked,
    /// <summary>The order was booked before (a retry): its stored label, nothing booked again.</summary>
    AlreadyBooked,
    /// <summary>The carrier refused this parcel: nothing stored.</summary>
    CarrierRefused,
    /// <summary>The carrier could not be reached or did not answer in time: nothing stored.</summary>
    CarrierUnavailable,
}

[GenerateSerializer, Immutable]
public sealed record LabelBooking(
    [property: Id(0)] LabelBookingStatus Status,
    [property: Id(1)] ShippingLabel? Label,
    [property: Id(2)] string? Reason);

/// <summary>
/// An order's shipping label (R-LOG-4). Key: the order id. It books the parcel with the carrier's adapter once and keeps the
/// booking, so a retried batch reuses it instead of booking a second shipment.
/// </summary>
[Orleans.CodeGeneration.Version(1)]
public interface IShippingLabelGrain : IGrainWithStringKey
{
    /// <summary>Books the parcel and stores the label before answering; an order booked before answers its stored label.</summary>
    Task<LabelBooking> Book(LabelParcel parcel);

    [ReadOnly]
    Task<ShippingLabel?> Get();
}

/// <summary>A run of serial numbers for tracking numbers: <see cref="First"/> and the <see cref="Count"/> after it (0: none left).</summary>
[GenerateSerializer, Immutable]
public sealed record TrackingSerials(
    [property: Id(0)] long First,
    [property: Id(1)] int Count);

/// <summary>
/// The platform's tracking-number serials of one series (key: its two-letter service indicator and country, e.g. <c>LX-CN</c>):
/// handed out in blocks, each serial once; a block a silo did not use up is not handed out again.
/// </summary>
[Orleans.CodeGeneration.Version(1)]
public interface ITrackingSerialGrain : IGrainWithStringKey
{
    Task<TrackingSerials> Reserve(int count);
}
