using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Orleans.Trade.Api.Auth;
using Orleans.Trade.Api.Common;
using Orleans.Trade.Api.Orders;
using Orleans.Trade.Common;
using Orleans.Trade.Logistics;

namespace Orleans.Trade.Api.Logistics;

public sealed record CarrierLaneRequest(
    [Required][property: Description("ISO 3166-1 alpha-2 codes, or \"*\" for every country no other lane names; a country is in one lane.")]
    IReadOnlyList<string?>? Countries,
    [Required][property: Description("Fewest days in transit.")] int? TransitDaysMin,
    [Required][property: Description("Most days in transit (1 to 120).")] int? TransitDaysMax,
    [Required][property: Description("Fee per parcel, minor units of the carrier's currency.")] long? BaseFeeMinor,
    [Required][property: Description("Fee per kilogram, minor units, charged by the gram and rounded up.")] long? PerKgFeeMinor);

public sealed record CarrierAcceptanceRequest(
    [Required][property: Description("A restricted class of goods: batteries, liquids, pastes, powders, magnets, flammables, sharpObjects, perishables.")] string? Goods,
    [Required][property: Description("Where the carrier takes it: ISO 3166-1 alpha-2 codes, or \"*\" wherever its lanes go.")] IReadOnlyList<string?>? Countries);

public sealed record CarrierRequest(
    [Required][property: Description("As buyers and sellers see it (up to 200 characters); a shipment naming it, or the carrier's id, is this carrier.")] string? Name,
    [Required][property: Description("postal, express or dedicatedLine.")] string? Service,
    [Required][property: Description("ISO 4217: the currency of its fees.")] string? Currency,
    [Required][property: Description("The heaviest parcel it takes, in grams.")] int? MaxWeightGrams,
    [Required][property: Description("Whether its parcels are tracked end to end.")] bool? Tracked,
    [Required][property: Description("Where it goes, how fast and for how much: 1 to 50 lanes.")] IReadOnlyList<CarrierLaneRequest?>? Lanes,
    [property: Description("The restricted goods it takes, and where (R-LOG-2); left out, it takes none.")] IReadOnlyList<CarrierAcceptanceRequest?>? Accepts,
    [property: Description("Left out: true. A disabled carrier is offered for no parcel.")] bool? Enabled);

public sealed record DestinationRestrictionRequest(
    [Required][property: Description("The restricted goods no carrier may take to the country; empty lifts its prohibitions.")] IReadOnlyList<string?>? Prohibited);

public sealed record CarrierRuleRequest(
    [property: Description("Destinations it applies to (ISO 3166-1 alpha-2); left out, every destination.")] IReadOnlyList<string?>? Countries,
    [property: Description("Parcels from this weight, in grams.")] int? MinWeightGrams,
    [property: Description("Parcels up to this weight, in grams.")] int? MaxWeightGrams,
    [property: Description("Parcels whose goods are worth at least this, minor units of the rules' currency.")] long? MinValueMinor,
    [property: Description("Parcels whose goods are worth at most this, minor units of the rules' currency.")] long? MaxValueMinor,
    [Required][property: Description("cheapest, fastest or balanced.")] string? Prefer,
    [property: Description("The carriers it picks among; left out, every carrier.")] IReadOnlyList<string?>? CarrierIds,
    [property: Description("Only tracked carriers (left out: false).")] bool? RequireTracked);

public sealed record CarrierRulesRequest(
    [Required][property: Description("Up to 50 rules, tried in order: the first that applies to a parcel picks its carrier.")] IReadOnlyList<CarrierRuleRequest?>? Rules,
    [property: Description("The preference when no rule applies: cheapest, fastest or balanced (left out: balanced).")] string? Otherwise,
    [property: Description("ISO 4217: the currency of the rules' value bounds (required when a rule has one); orders in other currencies are converted at the platform's rate.")] string? Currency);

/// <summary>The carriers for a parcel: what the destination prohibits, the rule that applied, the carriers it may take best first, and those hidden and why.</summary>
public sealed record CarrierPlanResponse(
    string? OrderId,
    string SellerId,
    ParcelFacts Parcel,
    [property: Description("Restricted goods of the parcel its destination prohibits: then no carrier takes it.")] IReadOnlyList<GoodsClass> Prohibited,
    [property: Description("The index of the seller's rule that applied; null: none did, and the seller's otherwise preference ranked.")] int? RuleIndex,
    CarrierPreference Preference,
    [property: Description("The carrier the rule picks: the first option; null when none can take the parcel.")] CarrierOption? Recommended,
    [property: Description("The carriers the rule may pick, best first.")] IReadOnlyList<CarrierOption> Options,
    [property: Description("The carriers left out: cannotTake (no lane, too heavy, restricted goods, disabled, prohibited) or not picked by the rule.")]
    IReadOnlyList<HiddenCarrier> Hidden)
{
    public static CarrierPlanResponse From(string? orderId, string sellerId, CarrierPlan plan) =>
        new(orderId, sellerId, plan.Parcel, plan.Prohibited, plan.RuleIndex, plan.Preference, plan.Recommended, plan.Options, plan.Hidden);
}

/// <summary>
/// Carriers (R-LOG-3) and restricted goods (R-LOG-2): the platform's carriers with their lanes, weight limits and the restricted
/// goods they take; destinations' prohibitions; sellers' rules that pick a carrier; and the carriers of an order or a SKU.
/// </summary>
public static class CarriersApi
{
    private const long MaxQuantity = OrdersApi.MaxQuantityPerLine;

    public static IEndpointRouteBuilder MapCarriersApiV1(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").WithTags("Logistics");
        api.MapPut("/carriers/{carrierId}", PutCarrier).RequireAuthorization(Policies.Admins).ProducesProblems(403, 422);
        api.MapGet("/carriers/{carrierId}", GetCarrier).RequireAuthorization().ProducesProblems(404);
        api.MapGet("/carriers", ListCarriers).RequireAuthorization();
        api.MapPut("/shipping-restrictions/{country}", PutRestriction).RequireAuthorization(Policies.Admins).ProducesProblems(403);
        api.MapPut("/sellers/{sellerId}/carrier-rules", PutRules).RequireAuthorization(Policies.CatalogWriters).ProducesProblems(403, 422);
        api.MapGet("/sellers/{sellerId}/carrier-rules", GetRules).RequireAuthorization(Policies.CatalogWriters).ProducesProblems(403);
        api.MapGet("/orders/{orderId}/carrier-options", OrderOptions).RequireAuthorization(Policies.CatalogWriters).ProducesProblems(404);
        api.MapGet("/skus/{skuId}/carrier-options", SkuOptions).RequireAuthorization().ProducesProblems(404);
        return app;
    }

    public static async Task<Results<Created<Carrier>, Ok<Carrier>, ValidationProblem, ProblemHttpResult>> PutCarrier(
        string carrierId, CarrierRequest request, IGrainFactory grains)
    {
        var v = new Validation();
        v.Identifier("carrierId", carrierId);
        var name = v.RequiredText("name", request.Name, CarrierRules.MaxNameLength);
        var service = request.Service is null ? v.Required<CarrierService>("service", null) : v.OneOf<CarrierService>("service", request.Service);
        v.Currency("currency", request.Currency);
        v.Required("maxWeightGrams", request.MaxWeightGrams);
        v.Required("tracked", request.Tracked);
        var lanes = new List<CarrierLane>();
        if (request.Lanes is null)
        {
            v.Add("lanes", "lanes is required.");
        }
        for (var l = 0; l < (request.Lanes?.Count ?? 0); l++)
        {
            if (request.Lanes![l] is not { Countries: { } countries, TransitDaysMin: { } min, TransitDaysMax: { } max, BaseFeeMinor: { } fee, PerKgFeeMinor: { } perKg })
            {
                v.Add($"lanes[{l}]", $"lanes[{l}] needs countries, transitDaysMin, transitDaysMax, baseFeeMinor and perKgFeeMinor.");
                continue;
            }
            lanes.Add(new CarrierLane(Countries(countries), min, max, fee, perKg));
        }
        var accepts = new List<CarrierAcceptance>();
        for (var a = 0; a < (request.Accepts?.Count ?? 0); a++)
        {
            if (request.Accepts![a] is not { Goods: { } goodsName, Countries: { } countries })
            {
                v.Add($"accepts[{a}]", $"accepts[{a}] needs goods and countries.");
                continue;
            }
            if (v.OneOf<GoodsClass>($"accepts[{a}].goods", goodsName) is { } goods)
            {
                accepts.Add(new CarrierAcceptance(goods, Countries(countries)));
            }
        }
        if (v.IsValid)
        {
            foreach (var (field, rule) in CarrierRules.CheckCarrier(request.MaxWeightGrams!.Value, lanes, accepts))
            {
                v.Add(field, rule);
            }
        }
        if (!v.IsValid)
        {
            return v.Problem();
        }
        var result = await grains.GetGrain<ICarrierRegistryGrain>(ICarrierRegistryGrain.Key).PutCarrier(carrierId, name!, service!.Value,
            request.Currency!, request.MaxWeightGrams!.Value, request.Tracked!.Value, lanes, accepts, request.Enabled ?? true);
        return result.Status switch
        {
            CarrierWriteStatus.Created => TypedResults.Created($"/api/v1/carriers/{carrierId}", result.Carrier),
            CarrierWriteStatus.Updated or CarrierWriteStatus.Unchanged => TypedResults.Ok(result.Carrier),
            _ => Problems.Unprocessable($"The platform has {CarrierRules.MaxCarriers} carriers, as many as it may; change or disable one instead."),
        };
    }

    public static async Task<Results<Ok<Carrier>, ProblemHttpResult>> GetCarrier(string carrierId, IGrainFactory grains)
    {
        var catalog = await grains.GetGrain<ICarrierRegistryGrain>(ICarrierRegistryGrain.Key).Get();
        return catalog.Carriers.FirstOrDefault(c => c.CarrierId == carrierId) is { } carrier
            ? TypedResults.Ok(carrier)
            : Problems.NotFound($"Carrier '{carrierId}' does not exist.");
    }

    /// <summary>The platform's carriers and destinations' prohibitions.</summary>
    public static async Task<Ok<CarrierCatalog>> ListCarriers(IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<ICarrierRegistryGrain>(ICarrierRegistryGrain.Key).Get());

    public static async Task<Results<Ok<DestinationRestriction>, ValidationProblem>> PutRestriction(
        string country, DestinationRestrictionRequest request, IGrainFactory grains)
    {
        var v = new Validation();
        v.Country("country", country);
        var goods = Goods(v, "prohibited", request.Prohibited);
        if (!v.IsValid)
        {
            return v.Problem();
        }
        return TypedResults.Ok(await grains.GetGrain<ICarrierRegistryGrain>(ICarrierRegistryGrain.Key).PutRestriction(country, goods));
    }

    public static async Task<Results<Ok<SellerCarrierRules>, ValidationProblem, ProblemHttpResult>> PutRules(
        string sellerId, CarrierRulesRequest request, ClaimsPrincipal user, IGrainFactory grains)
    {
        var v = new Validation();
        v.Identifier("sellerId", sellerId);
        if (request.Currency is not null) v.Currency("currency", request.Currency);
        var otherwise = v.OneOf<CarrierPreference>("otherwise", request.Otherwise) ?? CarrierPreference.Balanced;
        var rules = new List<CarrierRule>();
        if (request.Rules is null)
        {
            v.Add("rules", "rules is required (empty for none).");
        }
        for (var r = 0; r < (request.Rules?.Count ?? 0); r++)
        {
            var at = $"rules[{r}]";
            if (request.Rules![r] is not { } rule)
            {
                v.Add(at, $"{at} must not be null.");
                continue;
            }
            var prefer = rule.Prefer is null ? v.Required<CarrierPreference>($"{at}.prefer", null) : v.OneOf<CarrierPreference>($"{at}.prefer", rule.Prefer);
            string[]? carrierIds = null;
            if (rule.CarrierIds is { } ids)
            {
                carrierIds = new string[ids.Count];
                for (var i = 0; i < ids.Count; i++)
                {
                    v.Identifier($"{at}.carrierIds[{i}]", ids[i]);
                    carrierIds[i] = ids[i] ?? "";
                }
            }
            rules.Add(new CarrierRule(rule.Countries is { } countries ? Countries(countries) : null, rule.MinWeightGrams, rule.MaxWeightGrams,
                rule.MinValueMinor, rule.MaxValueMinor, prefer ?? CarrierPreference.Balanced, carrierIds, rule.RequireTracked ?? false));
        }
        if (v.IsValid)
        {
            foreach (var (field, rule) in CarrierRules.CheckRules(rules, request.Currency))
            {
                v.Add(field, rule);
            }
        }
        if (!v.IsValid)
        {
            return v.Problem();
        }
        if (Caller.From(user).RefusedFor(sellerId, "set the carrier rules of") is { } forbidden)
        {
            return forbidden;
        }
        return TypedResults.Ok(await grains.GetGrain<ISellerShippingGrain>(sellerId).PutCarrierRules(rules, otherwise, request.Currency));
    }

    public static async Task<Results<Ok<SellerCarrierRules>, ProblemHttpResult>> GetRules(string sellerId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (Caller.From(user).RefusedFor(sellerId, "read the carrier rules of") is { } forbidden)
        {
            return forbidden;
        }
        return TypedResults.Ok(Ids.IsValid(sellerId)
            ? await grains.GetGrain<ISellerShippingGrain>(sellerId).GetCarrierRules()
            : SellerCarrierRules.Default(sellerId));
    }

    /// <summary>The carriers for an order's parcel, as its seller's rules rank them (R-LOG-3).</summary>
    public static async Task<Results<Ok<CarrierPlanResponse>, ProblemHttpResult>> OrderOptions(string orderId, ClaimsPrincipal user, IGrainFactory grains)
    {
        var (_, view) = await OrdersApi.ReadableAsync(orderId, Caller.From(user), grains);
        if (view is null)
        {
            return Problems.NotFound($"Order '{orderId}' does not exist.");
        }
        var plan = await grains.GetGrain<ICarrierPlannerGrain>(0).PlanOrder(view);
        return TypedResults.Ok(CarrierPlanResponse.From(orderId, view.SellerId, plan));
    }

    /// <summary>The carriers that would take units of a SKU to a country (R-LOG-2: those that cannot take its goods there are hidden).</summary>
    public static async Task<Results<Ok<CarrierPlanResponse>, ValidationProblem, ProblemHttpResult>> SkuOptions(
        string skuId, [Description("The ship-to country, ISO 3166-1 alpha-2.")] string? country,
        [Description("Units (default 1).")] long? quantity, IGrainFactory grains)
    {
        var v = new Validation();
        v.Country("country", country);
        v.Range("quantity", quantity, 1, MaxQuantity);
        if (!v.IsValid)
        {
            return v.Problem();
        }
        var planner = grains.GetGrain<ICarrierPlannerGrain>(0);
        if ((Ids.IsValid(skuId) ? await planner.SkuParcel(skuId, quantity ?? 1, country!) : null) is not { } sku)
        {
            return Problems.NotFound($"SKU '{skuId}' does not exist.");
        }
        return TypedResults.Ok(CarrierPlanResponse.From(null, sku.SellerId, await planner.PlanParcel(sku.SellerId, sku.Parcel)));
    }

    private static string[] Countries(IReadOnlyList<string?> countries) => countries.Select(c => c?.Trim() ?? "").ToArray();

    private static GoodsClass[] Goods(Validation v, string field, IReadOnlyList<string?>? names)
    {
        if (names is null)
        {
            v.Add(field, $"{field} is required (empty for none).");
            return [];
        }
        var goods = new SortedSet<GoodsClass>();
        for (var i = 0; i < names.Count; i++)
        {
            if (names[i] is null)
            {
                v.Add($"{field}[{i}]", $"{field}[{i}] must not be null.");
            }
            else if (v.OneOf<GoodsClass>($"{field}[{i}]", names[i]) is { } g)
            {
                goods.Add(g);
            }
        }
        return goods.ToArray();
    }
}
