using System.ComponentModel;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Orleans.Trade.Api.Auth;
using Orleans.Trade.Api.Common;
using Orleans.Trade.Api.Orders;
using Orleans.Trade.Common;
using Orleans.Trade.Logistics;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Api.Logistics;

/// <param name="Shipped">Orders shipped with the carrier in the window (to this country).</param>
/// <param name="OnTime">Delivered within the most days the carrier's lane to the country promises (registered carriers only).</param>
/// <param name="Late">Delivered after that, or undelivered and past it now.</param>
/// <param name="OnTimeRate">OnTime over OnTime and Late; null when neither (an unregistered carrier promises nothing).</param>
/// <param name="TransitDaysP50">Days, rounded up, from shipping to delivery that half the deliveries took at most; null without deliveries.</param>
/// <param name="ComplaintRate">Complaints over Shipped: buyers' disputes that the parcel did not arrive, came late or broken.</param>
public sealed record CarrierCountryPerformance(string Country, long Shipped, long Delivered, long InTransit, long OnTime, long Late, double? OnTimeRate,
    int? TransitDaysP50, int? TransitDaysP90, long Complaints, double? ComplaintRate);

/// <param name="CarrierKey">The carrier as shipments name it, in letters and digits (R-LOG-5 keys); a registered carrier's is its id's, and
/// counts the shipments naming it by its id or its name.</param>
/// <param name="CarrierId">The registered carrier this key is (by its id or name); null when none is.</param>
public sealed record CarrierPerformance(string CarrierKey, string? CarrierId, string? Name, long Shipped, long Delivered, long InTransit, long OnTime, long Late,
    double? OnTimeRate, int? TransitDaysP50, int? TransitDaysP90, long Complaints, double? ComplaintRate,
    IReadOnlyDictionary<string, long> ComplaintsByReason, IReadOnlyList<CarrierCountryPerformance> Countries);

public sealed record CarrierPerformanceResponse(DateTimeOffset From, DateTimeOffset To, IReadOnlyList<CarrierPerformance> Carriers);

/// <param name="Delivered">Orders to the country with a delivery (the carrier's event, or the order's).</param>
public sealed record DestinationTimes(string Country, long Delivered, int? DeliveryDaysP50, int? DeliveryDaysP90);

/// <param name="Shipped">The seller's orders shipped in the window.</param>
/// <param name="HandlingHoursP50">Hours, rounded up, from placing to shipping that half of them took at most (P90: nine in ten).</param>
/// <param name="Late">Shipped after their ship-by time (R-ORD-1).</param>
/// <param name="DeliveryDaysP50">Days, rounded up, from shipping to delivery that half the delivered ones took at most, every destination together.</param>
public sealed record SellerShippingTimes(string SellerId, long Shipped, int? HandlingHoursP50, int? HandlingHoursP90, long Late, double? LateRate,
    long Delivered, int? DeliveryDaysP50, int? DeliveryDaysP90, IReadOnlyList<DestinationTimes> Destinations);

/// <param name="Total">Every seller's orders together (null when one seller was asked for).</param>
public sealed record ShippingTimesResponse(DateTimeOffset From, DateTimeOffset To, IReadOnlyList<SellerShippingTimes> Sellers, SellerShippingTimes? Total);

/// <summary>Carriers' on-time and complaint rates (R-LOG-7), from the orders shipped in a window, for choosing carriers and the goods to sell where.</summary>
public static class CarrierPerformanceApi
{

    public static IEndpointRouteBuilder MapCarrierPerformanceApiV1(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1").WithTags("Logistics")
            .MapGet("/analytics/carriers", Performance).RequireAuthorization(Policies.AlertReaders).ProducesProblems(403);
        app.MapGroup("/api/v1").WithTags("Logistics")
            .MapGet("/analytics/shipping-times", ShippingTimes).RequireAuthorization(Policies.AlertReaders).ProducesProblems(403);
        return app;
    }

    public static async Task<Results<Ok<CarrierPerformanceResponse>, ValidationProblem>> Performance(
        [Description("Orders shipped from this time (default: 30 days before to).")] DateTimeOffset? from,
        [Description("Orders shipped before this time (default: now); at most 92 days after from.")] DateTimeOffset? to,
        IOrderQueries queries, IGrainFactory grains, TradeClock clock, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (Window(from, to, now, out var start, out var end) is { } invalid)
        {
            return invalid;
        }
        var rows = await queries.CarrierShipmentsAsync(start, end, now, cancellationToken);
        var catalog = await grains.GetGrain<ICarrierRegistryGrain>(ICarrierRegistryGrain.Key).Get();
        // A registered carrier's shipments may name it by its id or its name: both count as the carrier (keyed by its id).
        var carriers = rows.Select(r => (Row: r, Carrier: Registered(catalog, r.CarrierKey)))
            .GroupBy(r => r.Carrier is { } c ? ShipmentKeys.Carrier(c.CarrierId) : r.Row.CarrierKey, StringComparer.Ordinal)
            .Select(g => Of(g.Key, Merged(g.Select(r => r.Row)), g.First().Carrier))
            .OrderByDescending(c => c.Shipped).ThenBy(c => c.CarrierKey, StringComparer.Ordinal).ToArray();
        return TypedResults.Ok(new CarrierPerformanceResponse(start, end, carriers));
    }

    /// <summary>One row per country of rows of several keys of one carrier.</summary>
    private static CarrierCountryStats[] Merged(IEnumerable<CarrierCountryStats> rows) =>
        rows.GroupBy(r => r.Country, StringComparer.Ordinal).Select(g =>
        {
            var first = g.First();
            if (!g.Skip(1).Any())
            {
                return first;
            }
            var merged = new CarrierCountryStats(first.CarrierKey, g.Key);
            foreach (var row in g)
            {
                merged.Shipped += row.Shipped;
                merged.Delivered += row.Delivered;
                Add(merged.TransitDays, row.TransitDays);
                Add(merged.OpenDays, row.OpenDays);
                foreach (var (reason, count) in row.Complaints)
                {
                    merged.Complaints[reason] = merged.Complaints.GetValueOrDefault(reason) + count;
                }
            }
            return merged;
        }).ToArray();

    /// <summary>
    /// Sellers' handling and delivery times (R-DAT-3: logistics times) over the orders shipped in the window: a seller's or ERP's key
    /// reads its own seller's (the default for it), staff any seller's or all, with the platform's total.
    /// </summary>
    public static async Task<Results<Ok<ShippingTimesResponse>, ValidationProblem, ProblemHttpResult>> ShippingTimes(
        [Description("Orders shipped from this time (default: 30 days before to).")] DateTimeOffset? from,
        [Description("Orders shipped before this time (default: now); at most 92 days after from.")] DateTimeOffset? to,
        [Description("One seller's (required to be its own for a seller's or ERP's key, which it defaults to).")] string? sellerId,
        System.Security.Claims.ClaimsPrincipal user, IOrderQueries queries, TradeClock clock, CancellationToken cancellationToken)
    {
        var caller = Caller.From(user);
        sellerId ??= caller.ActingSellerId;
        if (sellerId is not null && caller.RefusedFor(sellerId, "read the shipping times of") is { } forbidden)
        {
            return forbidden;
        }
        if (Window(from, to, clock.GetUtcNow(), out var start, out var end) is { } invalid)
        {
            return invalid;
        }
        var rows = sellerId is null || Ids.IsValid(sellerId) ? await queries.ShippingTimesAsync(start, end, sellerId, cancellationToken) : [];
        var sellers = rows.Select(Times).OrderByDescending(s => s.Shipped).ThenBy(s => s.SellerId, StringComparer.Ordinal).ToArray();
        SellerShippingTimes? total = null;
        if (sellerId is null)
        {
            var all = new SellerShippingStats("*");
            foreach (var row in rows)
            {
                all.Shipped += row.Shipped;
                all.Late += row.Late;
                Add(all.HandlingHours, row.HandlingHours);
                foreach (var (country, days) in row.DeliveryDays)
                {
                    Add(all.DeliveryDays.TryGetValue(country, out var sum) ? sum : all.DeliveryDays[country] = new long[days.Length], days);
                }
            }
            total = Times(all);
        }
        return TypedResults.Ok(new ShippingTimesResponse(start, end, sellers, total));
    }

    private static SellerShippingTimes Times(SellerShippingStats row)
    {
        var delivery = new long[CarrierCountryStats.MaxDays + 2];
        foreach (var days in row.DeliveryDays.Values)
        {
            Add(delivery, days);
        }
        var destinations = row.DeliveryDays.Select(d => new DestinationTimes(d.Key, d.Value.Sum(), Percentile(d.Value, 0.5), Percentile(d.Value, 0.9)))
            .OrderByDescending(d => d.Delivered).ThenBy(d => d.Country, StringComparer.Ordinal).ToArray();
        return new SellerShippingTimes(row.SellerId, row.Shipped, Percentile(row.HandlingHours, 0.5), Percentile(row.HandlingHours, 0.9), row.Late,
            Rate(row.Late, row.Shipped), delivery.Sum(), Percentile(delivery, 0.5), Percentile(delivery, 0.9), destinations);
    }

    private static void Add(long[] into, long[] from)
    {
        for (var i = 0; i < into.Length; i++)
        {
            into[i] += from[i];
        }
    }

    /// <summary>The window asked for (default the last 30 days), or the 400 saying why it cannot be.</summary>
    private static ValidationProblem? Window(DateTimeOffset? from, DateTimeOffset? to, DateTimeOffset now, out DateTimeOffset start, out DateTimeOffset end)
    {
        var v = new Validation();
        (start, end) = Analytics.ReportWindow.Check(v, from, to, now);
        return v.IsValid ? null : v.Problem();
    }

    private static Carrier? Registered(CarrierCatalog catalog, string key) =>
        catalog.Carriers.FirstOrDefault(c => ShipmentKeys.Carrier(c.CarrierId) == key)
        ?? catalog.Carriers.FirstOrDefault(c => ShipmentKeys.Carrier(c.Name) == key);

    /// <summary>A carrier's figures: each country's against its lane there, and their sums.</summary>
    public static CarrierPerformance Of(string key, IReadOnlyList<CarrierCountryStats> rows, Carrier? carrier)
    {
        var countries = new List<CarrierCountryPerformance>(rows.Count);
        var transit = new long[CarrierCountryStats.MaxDays + 2];
        var complaints = new SortedDictionary<string, long>(StringComparer.Ordinal);
        long onTime = 0, late = 0;
        foreach (var row in rows)
        {
            var promised = carrier is null ? null : CarrierRules.Lane(carrier, row.Country)?.TransitDaysMax;
            var (rowOnTime, rowLate) = Punctuality(row, promised);
            onTime += rowOnTime;
            late += rowLate;
            Add(transit, row.TransitDays);
            foreach (var (reason, count) in row.Complaints)
            {
                complaints[reason] = complaints.GetValueOrDefault(reason) + count;
            }
            var rowComplaints = row.Complaints.Values.Sum();
            countries.Add(new CarrierCountryPerformance(row.Country, row.Shipped, row.Delivered, row.Shipped - row.Delivered, rowOnTime, rowLate,
                Rate(rowOnTime, rowOnTime + rowLate), Percentile(row.TransitDays, 0.5), Percentile(row.TransitDays, 0.9), rowComplaints,
                Rate(rowComplaints, row.Shipped)));
        }
        long shipped = rows.Sum(r => r.Shipped), delivered = rows.Sum(r => r.Delivered), complained = complaints.Values.Sum();
        return new CarrierPerformance(key, carrier?.CarrierId, carrier?.Name, shipped, delivered, shipped - delivered, onTime, late,
            Rate(onTime, onTime + late), Percentile(transit, 0.5), Percentile(transit, 0.9), complained, Rate(complained, shipped), complaints,
            countries.OrderByDescending(c => c.Shipped).ThenBy(c => c.Country, StringComparer.Ordinal).ToArray());
    }

    /// <summary>Deliveries within <paramref name="promisedDays"/>, and those after it or still out past it; none without a promise.</summary>
    public static (long OnTime, long Late) Punctuality(CarrierCountryStats row, int? promisedDays)
    {
        if (promisedDays is not { } days)
        {
            return (0, 0);
        }
        long onTime = 0, late = 0;
        for (var d = 0; d < row.TransitDays.Length; d++)
        {
            if (d <= days) onTime += row.TransitDays[d];
            else late += row.TransitDays[d] + row.OpenDays[d];
        }
        return (onTime, late);
    }

    /// <summary>The smallest day count that at least <paramref name="share"/> of the histogram's deliveries took at most; null when empty.</summary>
    public static int? Percentile(long[] days, double share)
    {
        var total = days.Sum();
        if (total == 0)
        {
            return null;
        }
        var needed = (long)Math.Ceiling(total * share);
        long seen = 0;
        for (var d = 0; d < days.Length; d++)
        {
            seen += days[d];
            if (seen >= Math.Max(1, needed))
            {
                return d;
            }
        }
        return days.Length - 1;
    }

    private static double? Rate(long part, long whole) => whole == 0 ? null : Math.Round((double)part / whole, 4);
}
