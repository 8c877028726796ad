using Microsoft.Extensions.Configuration;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Api.Logistics;

/// <summary>
/// Each carrier's own status codes mapped to our tracking kinds (R-LOG-5; a carrier plugs in with a table, R-ROLE-3): built-in
/// tables for a few carriers, laid under configuration <c>Carriers:StatusCodes:&lt;carrier&gt;:&lt;code&gt;</c> = <c>inTransit</c>,
/// <c>customs</c>, <c>outForDelivery</c>, <c>exception</c> or <c>delivered</c> (an empty value takes a built-in code out). A
/// code a carrier's table does not list is not guessed. Carriers are matched by <see cref="ShipmentKeys.Carrier"/>, codes
/// ignoring case and surrounding spaces.
/// </summary>
public sealed class CarrierStatusCodes
{
    public const string Section = "Carriers:StatusCodes";

    /// <summary>Codes are at most this long (a configuration key cannot hold a ':').</summary>
    public const int MaxCodeLength = 64;

    /// <summary>
    /// A starting point for two express carriers' scan codes that move or stop a parcel; a code with no bearing on where the
    /// parcel is (a label printed, a shipment cancelled) is left out, so it is reported unknown until configured.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyDictionary<string, TrackingEventKind>> BuiltIn =
        new Dictionary<string, IReadOnlyDictionary<string, TrackingEventKind>>(StringComparer.Ordinal)
        {
            ["dhl"] = Table(
                ("PU", TrackingEventKind.InTransit), // shipment picked up
                ("PL", TrackingEventKind.InTransit), // processed at a location
                ("AF", TrackingEventKind.InTransit), // arrived at a facility
                ("DF", TrackingEventKind.InTransit), // departed a facility
                ("AR", TrackingEventKind.InTransit), // arrived at the delivery facility
                ("CR", TrackingEventKind.InTransit), // customs clearance complete
                ("CD", TrackingEventKind.Customs), // clearance delay
                ("WC", TrackingEventKind.OutForDelivery), // with the delivery courier
                ("OK", TrackingEventKind.Delivered),
                ("BA", TrackingEventKind.Exception), // bad address
                ("NH", TrackingEventKind.Exception), // not home
                ("CA", TrackingEventKind.Exception), // closed on arrival
                ("OH", TrackingEventKind.Exception), // on hold
                ("RT", TrackingEventKind.Exception)), // returned to the sender
            ["fedex"] = Table(
                ("PU", TrackingEventKind.InTransit), // picked up
                ("AR", TrackingEventKind.InTransit), // arrived at a FedEx location
                ("DP", TrackingEventKind.InTransit), // departed a FedEx location
                ("IT", TrackingEventKind.InTransit),
                ("CD", TrackingEventKind.Customs), // clearance delay
                ("OD", TrackingEventKind.OutForDelivery), // on the FedEx vehicle for delivery
                ("DL", TrackingEventKind.Delivered),
                ("DE", TrackingEventKind.Exception), // delivery exception
                ("SE", TrackingEventKind.Exception), // shipment exception
                ("RS", TrackingEventKind.Exception)), // returned to the shipper
        };

    private readonly Dictionary<string, Dictionary<string, TrackingEventKind>> _tables;

    private CarrierStatusCodes(Dictionary<string, Dictionary<string, TrackingEventKind>> tables) => _tables = tables;

    /// <summary>
    /// The built-in tables with the configured codes laid over them. A value that is not a kind stops the start naming its key:
    /// a code read as unknown would silently leave every parcel it reports untracked.
    /// </summary>
    public static CarrierStatusCodes From(IConfiguration configuration)
    {
        var tables = BuiltIn.ToDictionary(t => t.Key, t => new Dictionary<string, TrackingEventKind>(t.Value, StringComparer.OrdinalIgnoreCase),
            StringComparer.Ordinal);
        foreach (var carrier in configuration.GetSection(Section).GetChildren())
        {
            var key = ShipmentKeys.Carrier(carrier.Key);
            if (key.Length == 0)
            {
                throw new InvalidOperationException($"{carrier.Path} names no carrier: a carrier's name needs a letter or digit.");
            }
            if (!tables.TryGetValue(key, out var table))
            {
                tables[key] = table = new Dictionary<string, TrackingEventKind>(StringComparer.OrdinalIgnoreCase);
            }
            foreach (var code in carrier.GetChildren())
            {
                var value = code.Value?.Trim();
                if (string.IsNullOrEmpty(value))
                {
                    table.Remove(code.Key.Trim());
                }
                else if (ParseKind(value) is { } kind)
                {
                    table[code.Key.Trim()] = kind;
                }
                else
                {
                    throw new InvalidOperationException($"{code.Path} is '{value}'; it must be one of "
                        + $"{string.Join(", ", Enum.GetNames<TrackingEventKind>().Select(Common.Validation.CamelCase))}, or empty to take a built-in code out.");
                }
            }
        }
        return new CarrierStatusCodes(tables);
    }

    /// <summary>Whether the carrier (as <see cref="ShipmentKeys.Carrier"/> writes it) has a table at all.</summary>
    public bool Knows(string carrierKey) => _tables.ContainsKey(carrierKey);

    /// <summary>The kind the carrier's code means; null when its table does not list it.</summary>
    public TrackingEventKind? Map(string carrierKey, string code) =>
        _tables.TryGetValue(carrierKey, out var table) && table.TryGetValue(code.Trim(), out var kind) ? kind : null;

    private static TrackingEventKind? ParseKind(string value)
    {
        foreach (var name in Enum.GetNames<TrackingEventKind>())
        {
            if (string.Equals(name, value, StringComparison.OrdinalIgnoreCase))
            {
                return Enum.Parse<TrackingEventKind>(name);
            }
        }
        return null;
    }

    private static IReadOnlyDictionary<string, TrackingEventKind> Table(params (string Code, TrackingEventKind Kind)[] codes) =>
        codes.ToDictionary(c => c.Code, c => c.Kind, StringComparer.OrdinalIgnoreCase);
}
