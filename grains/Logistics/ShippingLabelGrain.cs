using Orleans.Trade.Common;

namespace Orleans.Trade.Logistics;

[GenerateSerializer]
public sealed class ShippingLabelState
{
    [Id(0)] public ShippingLabel? Label { get; set; }
}

/// <summary>
/// An order's shipping label (R-LOG-4): booked once with the carrier's adapter and stored before it is answered, so a resent batch
/// gets the same tracking number instead of a second booking. One booking at a time per order: the grain's turn.
/// </summary>
public sealed class ShippingLabelGrain(
    [PersistentState(stateName: "shipping-label", storageName: StorageNames.Trade)] IPersistentState<ShippingLabelState> state,
    CarrierAdapters adapters,
    TradeClock clock) : Grain, IShippingLabelGrain
{
    public async Task<LabelBooking> Book(LabelParcel parcel)
    {
        if (parcel.OrderId != this.GetPrimaryKeyString())
        {
            throw new ArgumentException($"A label of order '{this.GetPrimaryKeyString()}' cannot book order '{parcel.OrderId}'.", nameof(parcel));
        }
        if (state.State.Label is { } booked)
        {
            return new LabelBooking(LabelBookingStatus.AlreadyBooked, booked, null);
        }
        var adapter = adapters.For(parcel.CarrierId);
        var answer = await adapter.BookAsync(parcel);
        if (answer.TrackingNumber is not { } trackingNumber)
        {
            return new LabelBooking(answer.Unavailable ? LabelBookingStatus.CarrierUnavailable : LabelBookingStatus.CarrierRefused, null, answer.Failure);
        }
        state.State.Label = new ShippingLabel(parcel.OrderId, parcel.SellerId, parcel.CarrierId, parcel.CarrierName, parcel.Service, trackingNumber,
            adapter.Kind, parcel.ShipTo, parcel.WeightGrams, clock.GetUtcNow());
        await state.WriteOrReloadAsync(this);
        return new LabelBooking(LabelBookingStatus.Booked, state.State.Label, null);
    }

    public Task<ShippingLabel?> Get() => Task.FromResult(state.State.Label);
}

[GenerateSerializer]
public sealed class TrackingSerialState
{
    /// <summary>The first serial not yet handed out.</summary>
    [Id(0)] public long Next { get; set; }
}

/// <summary>A series of the platform's S10 tracking numbers: serials handed out in blocks, each once, until the eight digits run out.</summary>
public sealed class TrackingSerialGrain(
    [PersistentState(stateName: "tracking-serial", storageName: StorageNames.Trade)] IPersistentState<TrackingSerialState> state)
    : Grain, ITrackingSerialGrain
{
    public const int MaxBlock = 10_000;

    public async Task<TrackingSerials> Reserve(int count)
    {
        // Serial 0 (all zeros) is left out: it reads as a placeholder.
        var first = Math.Max(state.State.Next, 1);
        var given = (int)Math.Min(Math.Clamp(count, 1, MaxBlock), S10TrackingNumbers.SerialLimit - first);
        if (given <= 0)
        {
            return new TrackingSerials(first, 0);
        }
        state.State.Next = first + given;
        await state.WriteOrReloadAsync(this);
        return new TrackingSerials(first, given);
    }
}
