namespace Orleans.Trade.Orders;

/// <summary>A carrier's tracking event, normalised (R-LOG-5).</summary>
public enum TrackingEventKind
{
    InTransit,
    /// <summary>Held at customs: a ticket goes to customer service (R-ORD-6).</summary>
    Customs,
    OutForDelivery,
    /// <summary>Something went wrong on the way (damaged, address not found, returned): a ticket goes to customer service.</summary>
    Exception,
    /// <summary>Delivered: the order becomes delivered, as <c>POST …/delivery</c> does.</summary>
    Delivered,
}

/// <summary>A tracking event as the order keeps it: what the carrier saw, when and where, and who reported it when.</summary>
[GenerateSerializer, Immutable]
public sealed record TrackingEvent(
    [property: Id(0)] TrackingEventKind Kind,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] string? Location,
    [property: Id(3)] string? Note,
    [property: Id(4)] string RecordedBy,
    [property: Id(5)] DateTimeOffset RecordedAt);

/// <summary>
/// A carrier (or an admin) reports a tracking event of a shipped order. A carrier's feed names the tracking number it found the
/// order by (<see cref="ShipmentKeys.TrackingNumber"/>): an order whose seller corrected it since is not that parcel's.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record TrackingEventCommand(
    [property: Id(0)] OrderActor Actor,
    [property: Id(1)] TrackingEventKind Kind,
    [property: Id(2)] DateTimeOffset At,
    [property: Id(3)] string? Location,
    [property: Id(4)] string? Note,
    [property: Id(5)] string? TrackingKey = null);

public enum TrackingEventStatus
{
    Recorded,
    /// <summary>The same kind at the same time was recorded before: nothing changed.</summary>
    Duplicate,
    NotFound,
    Forbidden,
    /// <summary>The order is not in transit (not shipped yet, or delivered or ended).</summary>
    NotShipped,
    /// <summary>A field is wrong (<see cref="TrackingEventResult.Field"/> names it).</summary>
    Invalid,
}

[GenerateSerializer, Immutable]
public sealed record TrackingEventResult(
    [property: Id(0)] TrackingEventStatus Status,
    [property: Id(1)] OrderView? Order,
    [property: Id(2)] string? Reason,
    [property: Id(3)] string? Field = null,
    [property: Id(4)] OrderStatus? CurrentStatus = null);

/// <summary>
/// How a carrier's feed finds a shipment (R-LOG-5): the carrier by the letters and digits of its name in lower case
/// ("royalmail" for "Royal Mail" and for a key whose subject is "royal-mail"), the tracking number by its letters and digits in
/// upper case ("LX123456789CN" for "lx 123 456 789 cn"), as carriers and sellers write them with spaces, dashes and either case.
/// </summary>
public static class ShipmentKeys
{
    public static string Carrier(string name) => Normalised(name, upper: false);

    public static string TrackingNumber(string number) => Normalised(number, upper: true);

    /// <summary>The text itself when it is in that form already (as most are: no allocation), else a new string.</summary>
    private static string Normalised(string text, bool upper)
    {
        var already = true;
        foreach (var c in text)
        {
            if (!char.IsLetterOrDigit(c) || (upper ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c)) != c)
            {
                already = false;
                break;
            }
        }
        if (already)
        {
            return text;
        }
        var key = new System.Text.StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (char.IsLetterOrDigit(c))
            {
                key.Append(upper ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c));
            }
        }
        return key.ToString();
    }
}
