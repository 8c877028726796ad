using Orleans.Trade.Common;

namespace Orleans.Trade.Logistics;

/// <summary>What a parcel is, as carriers see it: where it goes, what it weighs, what restricted goods it holds and what its goods are worth.</summary>
[GenerateSerializer, Immutable]
public sealed record ParcelFacts(
    [property: Id(0)] string Country,
    [property: Id(1)] long WeightGrams,
    [property: Id(2)] IReadOnlyList<GoodsClass> Goods,
    [property: Id(3)] Money Value);

/// <summary>A carrier that can take the parcel, with its cost (its own currency, and the parcel's) and transit time.</summary>
[GenerateSerializer, Immutable]
public sealed record CarrierOption(
    [property: Id(0)] string CarrierId,
    [property: Id(1)] string Name,
    [property: Id(2)] CarrierService Service,
    [property: Id(3)] bool Tracked,
    [property: Id(4)] Money Cost,
    [property: Id(5)] Money CostInParcelCurrency,
    [property: Id(6)] int TransitDaysMin,
    [property: Id(7)] int TransitDaysMax);

/// <summary>
/// A carrier left out, and why: it cannot take the parcel (<see cref="CannotTake"/>: no lane, too heavy, restricted goods,
/// disabled), or the seller's rule does not pick it.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record HiddenCarrier(
    [property: Id(0)] string CarrierId,
    [property: Id(1)] string Name,
    [property: Id(2)] bool CannotTake,
    [property: Id(3)] IReadOnlyList<string> Reasons);

/// <summary>
/// The carriers for a parcel (R-LOG-2, R-LOG-3): <see cref="Prohibited"/> goods the destination refuses (then no carrier takes it);
/// the seller's rule that applied (<see cref="RuleIndex"/>, null for the seller's default) and its preference; the carriers it may
/// pick, best first; and those hidden.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record CarrierPlan(
    [property: Id(0)] ParcelFacts Parcel,
    [property: Id(1)] IReadOnlyList<GoodsClass> Prohibited,
    [property: Id(2)] int? RuleIndex,
    [property: Id(3)] CarrierPreference Preference,
    [property: Id(4)] IReadOnlyList<CarrierOption> Options,
    [property: Id(5)] IReadOnlyList<HiddenCarrier> Hidden)
{
    public CarrierOption? Recommended => Options.Count > 0 ? Options[0] : null;
}

/// <summary>The pure rules of carriers (R-LOG-2, R-LOG-3): their limits and checks, what a parcel costs, and which carrier a rule picks.</summary>
public static class CarrierRules
{
    public const int MaxCarriers = 200;
    public const int MaxLanes = 50;
    public const int MaxCountries = DestinationCountries.Max;
    public const int MaxRules = 50;
    public const int MaxTransitDays = 120;
    public const long MaxFeeMinor = 100_000_000;
    public const int MaxWeightGrams = 1_000_000;
    public const int MaxNameLength = 200;
    public const string Elsewhere = DestinationCountries.Elsewhere;

    /// <summary>Every problem with a carrier's terms, each with the request field at fault; empty when they are right.</summary>
    public static IReadOnlyList<(string Field, string Rule)> CheckCarrier(int maxWeightGrams, IReadOnlyList<CarrierLane> lanes,
        IReadOnlyList<CarrierAcceptance> accepts)
    {
        var problems = new List<(string, string)>();
        if (maxWeightGrams is < 1 or > MaxWeightGrams)
        {
            problems.Add(("maxWeightGrams", $"maxWeightGrams must be 1 to {MaxWeightGrams}."));
        }
        if (lanes.Count is 0 or > MaxLanes)
        {
            problems.Add(("lanes", $"lanes holds 1 to {MaxLanes} lanes."));
        }
        var named = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var l = 0; l < lanes.Count; l++)
        {
            var lane = lanes[l];
            var at = $"lanes[{l}]";
            DestinationCountries.Check(problems, $"{at}.countries", lane.Countries, DestinationCountries.Once(problems, "lanes", l, named));
            if (lane.TransitDaysMin < 0 || lane.TransitDaysMax < Math.Max(1, lane.TransitDaysMin) || lane.TransitDaysMax > MaxTransitDays)
            {
                problems.Add(($"{at}.transitDaysMax", $"{at} takes transitDaysMin (0 or more) to transitDaysMax (1 to {MaxTransitDays}, not below transitDaysMin) days."));
            }
            if (lane.BaseFeeMinor is < 0 or > MaxFeeMinor)
            {
                problems.Add(($"{at}.baseFeeMinor", $"{at}.baseFeeMinor must be 0 to {MaxFeeMinor}."));
            }
            if (lane.PerKgFeeMinor is < 0 or > MaxFeeMinor)
            {
                problems.Add(($"{at}.perKgFeeMinor", $"{at}.perKgFeeMinor must be 0 to {MaxFeeMinor}."));
            }
        }
        var goods = new HashSet<GoodsClass>();
        for (var a = 0; a < accepts.Count; a++)
        {
            var at = $"accepts[{a}]";
            if (!goods.Add(accepts[a].Goods))
            {
                problems.Add(($"{at}.goods", $"{at}.goods names {Camel(accepts[a].Goods)}, which another entry names already."));
            }
            DestinationCountries.Check(problems, $"{at}.countries", accepts[a].Countries);
        }
        return problems;
    }

    /// <summary>Every problem with a seller's rules; <paramref name="currency"/> is the one their value bounds are in.</summary>
    public static IReadOnlyList<(string Field, string Rule)> CheckRules(IReadOnlyList<CarrierRule> rules, string? currency)
    {
        var problems = new List<(string, string)>();
        if (rules.Count > MaxRules)
        {
            problems.Add(("rules", $"rules holds at most {MaxRules} rules."));
        }
        for (var r = 0; r < rules.Count; r++)
        {
            var rule = rules[r];
            var at = $"rules[{r}]";
            if (rule.Countries is { } countries)
            {
                DestinationCountries.Check(problems, $"{at}.countries", countries, (country, c) =>
                {
                    if (country == Elsewhere)
                    {
                        problems.Add(($"{at}.countries[{c}]", $"{at}.countries names countries; leave it out for every country."));
                    }
                });
            }
            if (rule.MinWeightGrams is < 0 || rule.MaxWeightGrams is < 1 || rule.MinWeightGrams > rule.MaxWeightGrams)
            {
                problems.Add(($"{at}.maxWeightGrams", $"{at}'s weight bounds are grams, minWeightGrams (0 or more) not above maxWeightGrams."));
            }
            if (rule.MinValueMinor is < 0 || rule.MaxValueMinor is < 1 || rule.MinValueMinor > rule.MaxValueMinor)
            {
                problems.Add(($"{at}.maxValueMinor", $"{at}'s value bounds are minor units, minValueMinor (0 or more) not above maxValueMinor."));
            }
            if ((rule.MinValueMinor is not null || rule.MaxValueMinor is not null) && currency is null)
            {
                problems.Add(("currency", $"{at} bounds the goods value: give the rules' currency."));
            }
            if (rule.CarrierIds is { Count: 0 })
            {
                problems.Add(($"{at}.carrierIds", $"{at}.carrierIds names at least one carrier; leave it out for every carrier."));
            }
        }
        return problems;
    }

    /// <summary>What a parcel of <paramref name="weightGrams"/> costs on a lane: its base fee plus its rate per kilogram, by the gram, rounded up.</summary>
    public static long Cost(CarrierLane lane, long weightGrams) =>
        checked(lane.BaseFeeMinor + (lane.PerKgFeeMinor * weightGrams + 999) / 1000);

    /// <summary>The carrier's lane to the country: the lane naming it, else its <c>*</c> lane, else none.</summary>
    public static CarrierLane? Lane(Carrier carrier, string country) => DestinationCountries.For(carrier.Lanes, l => l.Countries, country);

    /// <summary>The goods the destination prohibits of those the parcel holds.</summary>
    public static IReadOnlyList<GoodsClass> Prohibited(CarrierCatalog catalog, ParcelFacts parcel) => Prohibited(catalog, parcel.Country, parcel.Goods);

    /// <summary>The goods <paramref name="country"/> prohibits of <paramref name="goods"/>.</summary>
    public static IReadOnlyList<GoodsClass> Prohibited(CarrierCatalog catalog, string country, IReadOnlyList<GoodsClass> goods)
    {
        if (goods.Count == 0)
        {
            return [];
        }
        foreach (var restriction in catalog.Restrictions)
        {
            if (restriction.Country == country)
            {
                return goods.Where(restriction.Prohibited.Contains).Distinct().ToArray();
            }
        }
        return [];
    }

    /// <summary>Why the carrier cannot take the parcel (R-LOG-2); empty when it can.</summary>
    public static IReadOnlyList<string> WhyNot(Carrier carrier, ParcelFacts parcel)
    {
        var reasons = new List<string>();
        if (!carrier.Enabled)
        {
            reasons.Add($"{carrier.Name} is disabled");
        }
        if (Lane(carrier, parcel.Country) is null)
        {
            reasons.Add($"{carrier.Name} does not go to {parcel.Country}");
        }
        if (parcel.WeightGrams > carrier.MaxWeightGrams)
        {
            reasons.Add($"the parcel weighs {parcel.WeightGrams} g, more than the {carrier.MaxWeightGrams} g {carrier.Name} takes");
        }
        foreach (var goods in parcel.Goods.Distinct())
        {
            var acceptance = carrier.Accepts.FirstOrDefault(a => a.Goods == goods);
            if (acceptance is null || !DestinationCountries.Take(acceptance.Countries, parcel.Country))
            {
                reasons.Add($"{carrier.Name} does not take {Camel(goods)} to {parcel.Country}");
            }
        }
        return reasons;
    }

    /// <summary>The index of the first of the seller's rules that applies to the parcel, or null; <paramref name="convert"/> gives the parcel's value in the rules' currency (null: no rate).</summary>
    public static int? Applying(SellerCarrierRules rules, ParcelFacts parcel, Func<Money, string, Money?> convert)
    {
        for (var r = 0; r < rules.Rules.Count; r++)
        {
            var rule = rules.Rules[r];
            if (rule.Countries is { } countries && !countries.Contains(parcel.Country)
                || parcel.WeightGrams < rule.MinWeightGrams || parcel.WeightGrams > rule.MaxWeightGrams)
            {
                continue;
            }
            if (rule.MinValueMinor is not null || rule.MaxValueMinor is not null)
            {
                if (rules.Currency is not { } currency || convert(parcel.Value, currency) is not { } value
                    || value.AmountMinor < rule.MinValueMinor || value.AmountMinor > rule.MaxValueMinor)
                {
                    continue;
                }
            }
            return r;
        }
        return null;
    }

    /// <summary>
    /// The carriers for a parcel (R-LOG-2, R-LOG-3): those that cannot take it are hidden with their reasons; the seller's first
    /// applying rule narrows the rest and ranks them by its preference, costs compared in the parcel's currency through
    /// <paramref name="convert"/> (a carrier whose cost cannot be converted is hidden).
    /// </summary>
    public static CarrierPlan Plan(CarrierCatalog catalog, SellerCarrierRules rules, ParcelFacts parcel, Func<Money, string, Money?> convert)
    {
        var prohibited = Prohibited(catalog, parcel);
        var ruleIndex = Applying(rules, parcel, convert);
        var rule = ruleIndex is { } i ? rules.Rules[i] : null;
        var preference = rule?.Prefer ?? rules.Otherwise;
        var options = new List<CarrierOption>();
        var hidden = new List<HiddenCarrier>();
        foreach (var carrier in catalog.Carriers.OrderBy(c => c.CarrierId, StringComparer.Ordinal))
        {
            var reasons = WhyNot(carrier, parcel);
            if (prohibited.Count > 0)
            {
                reasons = [$"{parcel.Country} prohibits {string.Join(", ", prohibited.Select(Camel))}", .. reasons];
            }
            if (reasons.Count > 0)
            {
                hidden.Add(new HiddenCarrier(carrier.CarrierId, carrier.Name, true, reasons));
                continue;
            }
            var lane = Lane(carrier, parcel.Country)!;
            var cost = new Money(Cost(lane, parcel.WeightGrams), carrier.Currency);
            var byRule = new List<string>();
            if (rule?.CarrierIds is { } allowed && !allowed.Contains(carrier.CarrierId))
            {
                byRule.Add($"rules[{ruleIndex}] picks among {string.Join(", ", allowed)}");
            }
            if (rule is { RequireTracked: true } && !carrier.Tracked)
            {
                byRule.Add($"rules[{ruleIndex}] requires a tracked service");
            }
            var converted = convert(cost, parcel.Value.Currency);
            if (converted is null)
            {
                byRule.Add($"no exchange rate from {carrier.Currency} to {parcel.Value.Currency} to compare its cost");
            }
            if (byRule.Count > 0)
            {
                hidden.Add(new HiddenCarrier(carrier.CarrierId, carrier.Name, false, byRule));
                continue;
            }
            options.Add(new CarrierOption(carrier.CarrierId, carrier.Name, carrier.Service, carrier.Tracked, cost, converted!,
                lane.TransitDaysMin, lane.TransitDaysMax));
        }
        return new CarrierPlan(parcel, prohibited, ruleIndex, preference, Rank(options, preference), hidden);
    }

    /// <summary>The options best first by the preference; ties go to the lower cost, then the shorter transit, then the carrier id.</summary>
    public static IReadOnlyList<CarrierOption> Rank(IReadOnlyList<CarrierOption> options, CarrierPreference preference)
    {
        if (options.Count == 0)
        {
            return options;
        }
        var cheapest = options.Min(o => o.CostInParcelCurrency.AmountMinor);
        var fastest = options.Min(o => o.TransitDaysMax);
        decimal Score(CarrierOption o) => preference switch
        {
            CarrierPreference.Cheapest => o.CostInParcelCurrency.AmountMinor,
            CarrierPreference.Fastest => o.TransitDaysMax,
            _ => (cheapest == 0 ? (o.CostInParcelCurrency.AmountMinor == 0 ? 1m : 2m) : (decimal)o.CostInParcelCurrency.AmountMinor / cheapest)
                + (decimal)o.TransitDaysMax / Math.Max(1, fastest),
        };
        return options.OrderBy(Score).ThenBy(o => o.CostInParcelCurrency.AmountMinor).ThenBy(o => o.TransitDaysMax)
            .ThenBy(o => o.TransitDaysMin).ThenBy(o => o.CarrierId, StringComparer.Ordinal).ToArray();
    }

    /// <summary>A goods class as requests and answers name it.</summary>
    public static string Camel(GoodsClass goods) => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(goods.ToString());
}
