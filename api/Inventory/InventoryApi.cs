using System.ComponentModel;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Orleans.Trade.Api.Auth;
using Orleans.Trade.Api.Common;
using Orleans.Trade.Common;
using Orleans.Trade.Inventory;

namespace Orleans.Trade.Api.Inventory;

/// <summary>Catalog, stock, ERP sync, warehouses and stock alerts (R-INV-1..3).</summary>
public static class InventoryApi
{
    public const int MaxBulkItems = 10_000;
    private const int BulkParallelism = 1_024;
    private const int MaxAlertPage = 500;
    private const string KindDescription = "Only alerts of this kind, as the answers write it: lowStock or outOfStock.";

    public static IEndpointRouteBuilder MapInventoryApiV1(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").WithTags("Inventory");

        api.MapPut("/skus/{skuId}", PutSku).RequireAuthorization(Policies.CatalogWriters).ProducesProblems(403, 422);
        api.MapGet("/skus/{skuId}", GetSku).RequireAuthorization().ProducesProblems(404);
        api.MapPut("/skus/{skuId}/stock/{warehouseId}", PutStock).RequireAuthorization(Policies.CatalogWriters).ProducesProblems(403, 404, 409, 422);
        api.MapPost("/skus/{skuId}/stock/{warehouseId}/adjustments", AdjustStock).RequireAuthorization(Policies.CatalogWriters)
            .ProducesProblems(403, 404, 409, 422);
        api.MapPost("/stock/bulk", BulkStock).RequireAuthorization(Policies.CatalogWriters).ProducesProblems(403);
        api.MapGet("/stock/alerts", ListAlerts).RequireAuthorization(Policies.AlertReaders).ProducesProblems(403);
        api.MapPut("/warehouses/{warehouseId}", PutWarehouse).RequireAuthorization(Policies.Admins).ProducesProblems(403, 409);
        api.MapGet("/warehouses", ListWarehouses).RequireAuthorization();
        return app;
    }

    public static async Task<Results<Created<SkuResponse>, Ok<SkuResponse>, ValidationProblem, ProblemHttpResult>> PutSku(
        string skuId, PutSkuRequest request, ClaimsPrincipal user, IGrainFactory grains, TradeClock clock)
    {
        var caller = Caller.From(user);
        var v = new Validation();
        v.Identifier("skuId", skuId);
        var sellerId = request.SellerId ?? caller.ActingSellerId;
        if (sellerId is null)
        {
            v.Add("sellerId", "sellerId is required.");
        }
        else
        {
            v.Identifier("sellerId", sellerId);
        }
        var title = v.RequiredText("title", request.Title, 200);
        var category = v.RequiredText("category", request.Category, 64);
        if (request.Price is null)
        {
            v.Add("price", "price is required.");
        }
        else
        {
            v.Required("price.amountMinor", request.Price.AmountMinor);
            v.Range("price.amountMinor", request.Price.AmountMinor, 1, 1_000_000_000_000);
            v.Currency("price.currency", request.Price.Currency);
        }
        v.Required("weightGrams", request.WeightGrams);
        v.Range("weightGrams", request.WeightGrams, 1, 1_000_000);
        var hsCode = request.HsCode?.Replace(".", "", StringComparison.Ordinal);
        if (hsCode is null || hsCode.Length is not (6 or 8 or 10) || !hsCode.All(char.IsAsciiDigit))
        {
            v.Add("hsCode", "hsCode is required: a Harmonized System code of 6, 8 or 10 digits (dots allowed, e.g. 8517.62).");
        }
        v.Country("originCountry", request.OriginCountry);
        if (request.UnitCost is { } cost)
        {
            v.Required("unitCost.amountMinor", cost.AmountMinor);
            v.Range("unitCost.amountMinor", cost.AmountMinor, 0, 1_000_000_000_000);
            v.Currency("unitCost.currency", cost.Currency);
            if (cost.Currency is not null && request.Price?.Currency is { } priceCurrency && cost.Currency != priceCurrency)
            {
                v.Add("unitCost.currency", $"unitCost.currency must be the price's currency ({priceCurrency}).");
            }
        }
        v.Range("lowStockThreshold", request.LowStockThreshold, 0, 1_000_000_000);
        v.Range("handlingTimeDays", request.HandlingTimeDays, 1, 60);
        if (request.PreSale is { } preSale)
        {
            v.Required("preSale.quota", preSale.Quota);
            v.Range("preSale.quota", preSale.Quota, 1, StockLimits.MaxOnHand);
            v.Required("preSale.promisedShipDate", preSale.PromisedShipDate);
            if (preSale.PromisedShipDate is { } date && date <= DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime))
            {
                v.Add("preSale.promisedShipDate", "preSale.promisedShipDate must be in the future.");
            }
        }
        var substitutes = request.SubstituteSkuIds ?? [];
        if (substitutes.Count > 10)
        {
            v.Add("substituteSkuIds", "substituteSkuIds may name at most 10 SKUs.");
        }
        for (var i = 0; i < substitutes.Count; i++)
        {
            if (!Ids.IsValid(substitutes[i]) || substitutes[i] == skuId)
            {
                v.Add($"substituteSkuIds[{i}]", $"substituteSkuIds[{i}] must be another SKU's id.");
            }
        }
        if (request.ShippingTemplateId is not null) v.Identifier("shippingTemplateId", request.ShippingTemplateId);
        var restricted = new SortedSet<Orleans.Trade.Logistics.GoodsClass>();
        for (var i = 0; i < (request.RestrictedGoods?.Count ?? 0); i++)
        {
            if (request.RestrictedGoods![i] is null)
            {
                v.Add($"restrictedGoods[{i}]", $"restrictedGoods[{i}] must not be null.");
            }
            else if (v.OneOf<Orleans.Trade.Logistics.GoodsClass>($"restrictedGoods[{i}]", request.RestrictedGoods[i]) is { } goods)
            {
                restricted.Add(goods);
            }
        }
        if (!v.IsValid)
        {
            return v.Problem();
        }
        if (caller.RefusedFor(sellerId!, "write SKUs of") is { } forbidden)
        {
            return forbidden;
        }
        if (request.ShippingTemplateId is { } templateId)
        {
            // R-LOG-1: a template of the SKU's own seller, priced in the SKU's currency (its fee is added to the SKU's goods).
            var template = await grains.GetGrain<Orleans.Trade.Logistics.ISellerShippingGrain>(sellerId!).Get(templateId);
            if (template is null)
            {
                return Problems.Unprocessable($"Seller '{sellerId}' has no shipping template '{templateId}'; create it first (PUT /api/v1/sellers/{sellerId}/shipping-templates/{templateId}).",
                    new Dictionary<string, object?> { ["field"] = "shippingTemplateId" });
            }
            if (template.Currency != request.Price!.Currency)
            {
                return Problems.Unprocessable($"Shipping template '{templateId}' is priced in {template.Currency} and the SKU in {request.Price.Currency}; a SKU uses a template of its own currency.",
                    new Dictionary<string, object?> { ["field"] = "shippingTemplateId" });
            }
        }

        var substituteIds = substitutes.Select(id => id!).Distinct().ToArray();
        // R-INV-5: a SKU suggests its own seller's SKUs; an id no SKU has yet is taken (checkouts offer only the seller's own).
        var substituteCatalogs = await Task.WhenAll(substituteIds.Select(id => grains.GetGrain<ISkuGrain>(id).GetCatalog()));
        for (var i = 0; i < substituteIds.Length; i++)
        {
            if (substituteCatalogs[i] is { } other && other.SellerId != sellerId)
            {
                return Problems.Unprocessable(
                    $"substituteSkuIds names SKU '{substituteIds[i]}', which belongs to another seller; a SKU's substitutes must be SKUs of its own seller '{sellerId}'.",
                    new Dictionary<string, object?> { ["skuId"] = substituteIds[i] });
            }
        }

        var catalog = new SkuCatalog(sellerId!, title!, category!, new Money(request.Price!.AmountMinor!.Value, request.Price.Currency!),
            request.WeightGrams!.Value, hsCode!, request.OriginCountry!, request.LowStockThreshold,
            request.PreSale is { } terms ? new PreSaleTerms(terms.Quota!.Value, terms.PromisedShipDate!.Value) : null,
            substituteIds, request.HandlingTimeDays, request.ShippingTemplateId, restricted.Count > 0 ? restricted.ToArray() : null,
            request.UnitCost is { } unitCost ? new Money(unitCost.AmountMinor!.Value, unitCost.Currency!) : null);
        var result = await grains.GetGrain<ISkuGrain>(skuId).UpsertCatalog(catalog, caller.ActingSellerId);
        return result.Status switch
        {
            // The writer is the SKU's seller's key or an admin: it sees the cost it wrote.
            CatalogWriteStatus.Created => TypedResults.Created($"/api/v1/skus/{skuId}", SkuResponse.From(result.Sku!, clock.GetUtcNow(), showCost: true)),
            CatalogWriteStatus.Updated => TypedResults.Ok(SkuResponse.From(result.Sku!, clock.GetUtcNow(), showCost: true)),
            _ => Problems.Forbidden($"SKU '{skuId}' belongs to another seller."),
        };
    }

    public static async Task<Results<Ok<SkuResponse>, ProblemHttpResult>> GetSku(string skuId, ClaimsPrincipal user, IGrainFactory grains, TradeClock clock)
    {
        if (!Ids.IsValid(skuId))
        {
            return Problems.NotFound($"SKU '{skuId}' does not exist.");
        }
        var view = await grains.GetGrain<ISkuGrain>(skuId).Get();
        // The unit cost is the seller's secret (R-DAT-4): buyers, storefronts and other sellers get the SKU without it.
        return view is null
            ? Problems.NotFound($"SKU '{skuId}' does not exist.")
            : TypedResults.Ok(SkuResponse.From(view, clock.GetUtcNow(), SkuResponse.MayReadCost(Caller.From(user), view.Catalog.SellerId)));
    }

    public static async Task<Results<Ok<StockWriteResponse>, ValidationProblem, ProblemHttpResult>> PutStock(
        string skuId, string warehouseId, PutStockRequest request, ClaimsPrincipal user, IGrainFactory grains)
    {
        var v = new Validation();
        v.Identifier("skuId", skuId);
        v.Identifier("warehouseId", warehouseId);
        v.Required("onHand", request.OnHand);
        v.Range("onHand", request.OnHand, 0, StockLimits.MaxOnHand);
        v.Required("version", request.Version);
        v.Range("version", request.Version, 1, long.MaxValue);
        if (!v.IsValid)
        {
            return v.Problem();
        }
        if (await UnknownWarehouse(grains, warehouseId) is { } unknown)
        {
            return unknown;
        }
        var result = await grains.GetGrain<ISkuGrain>(skuId)
            .SetStock(new StockLevelUpdate(warehouseId, request.OnHand!.Value, request.Version!.Value), Caller.From(user).ActingSellerId);
        return result.Status switch
        {
            StockWriteStatus.Applied => TypedResults.Ok(new StockWriteResponse(skuId, "applied", WarehouseStockResponse.From(result.Warehouse!, result.HeldForPreOrders), result.TotalAvailable)),
            // The same version and quantity again: a retry of an update that was applied (its answer was lost).
            StockWriteStatus.Duplicate => TypedResults.Ok(new StockWriteResponse(skuId, "duplicate", WarehouseStockResponse.From(result.Warehouse!, result.HeldForPreOrders), result.TotalAvailable)),
            StockWriteStatus.Stale => Problems.Conflict($"Stale stock update for SKU '{skuId}' in warehouse '{warehouseId}': {result.Reason}",
                new Dictionary<string, object?> { ["currentVersion"] = result.Warehouse?.Version }),
            _ => WriteRefusal(skuId, result),
        };
    }

    public static async Task<Results<Ok<StockWriteResponse>, ValidationProblem, ProblemHttpResult>> AdjustStock(
        string skuId, string warehouseId, StockAdjustmentRequest request, ClaimsPrincipal user, IGrainFactory grains)
    {
        var v = new Validation();
        v.Identifier("skuId", skuId);
        v.Identifier("warehouseId", warehouseId);
        if (request.EventId is null)
        {
            v.Add("eventId", "eventId is required: it makes a retried adjustment apply once.");
        }
        else
        {
            v.Identifier("eventId", request.EventId);
        }
        v.Required("delta", request.Delta);
        v.Range("delta", request.Delta, -StockLimits.MaxOnHand, StockLimits.MaxOnHand);
        if (request.Delta == 0)
        {
            v.Add("delta", "delta must not be zero.");
        }
        if (request.Reason is { Length: > 200 })
        {
            v.Add("reason", "reason must be at most 200 characters.");
        }
        if (!v.IsValid)
        {
            return v.Problem();
        }
        if (await UnknownWarehouse(grains, warehouseId) is { } unknown)
        {
            return unknown;
        }
        var result = await grains.GetGrain<ISkuGrain>(skuId).AdjustStock(
            new StockAdjustment(warehouseId, request.EventId!, request.Delta!.Value, request.Reason), Caller.From(user).ActingSellerId);
        return result.Status switch
        {
            StockWriteStatus.Applied or StockWriteStatus.Duplicate when result.Warehouse is not null => TypedResults.Ok(new StockWriteResponse(
                skuId, result.Status == StockWriteStatus.Applied ? "applied" : "duplicate", WarehouseStockResponse.From(result.Warehouse, result.HeldForPreOrders), result.TotalAvailable)),
            StockWriteStatus.Rejected => Problems.Conflict($"Adjustment of SKU '{skuId}' in warehouse '{warehouseId}' refused: {result.Reason}",
                new Dictionary<string, object?> { ["onHand"] = result.Warehouse?.OnHand ?? 0 }),
            _ => WriteRefusal(skuId, result),
        };
    }

    public static async Task<Results<Ok<BulkStockResponse>, ValidationProblem>> BulkStock(
        BulkStockRequest request, ClaimsPrincipal user, IGrainFactory grains, CancellationToken cancellationToken)
    {
        var items = request.Items;
        if (items is null || items.Count == 0)
        {
            return new Validation().Add("items", "items is required and must hold at least one update.").Problem();
        }
        if (items.Count > MaxBulkItems)
        {
            return new Validation().Add("items", $"items may hold at most {MaxBulkItems} updates per request; got {items.Count}. Split the load.").Problem();
        }

        var acting = Caller.From(user).ActingSellerId;
        var warehouses = (await grains.GetGrain<IWarehouseRegistryGrain>(WarehouseRegistry.Key).List())
            .Select(w => w.WarehouseId).ToHashSet(StringComparer.Ordinal);
        var results = new BulkItemResult[items.Count];
        var bySku = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            var problem = item is null ? "the item is null."
                : !Ids.IsValid(item.SkuId) ? "skuId is missing or malformed."
                : !Ids.IsValid(item.WarehouseId) ? "warehouseId is missing or malformed."
                : !warehouses.Contains(item.WarehouseId!) ? $"warehouse '{item.WarehouseId}' is not registered."
                : item.OnHand is not { } onHand || onHand < 0 || onHand > StockLimits.MaxOnHand ? $"onHand is required, between 0 and {StockLimits.MaxOnHand}."
                : item.Version is not >= 1 ? "version is required and must be at least 1."
                : null;
            if (problem is not null)
            {
                results[i] = new BulkItemResult(i, item?.SkuId, item?.WarehouseId, BulkItemStatus.Invalid, null, problem);
                continue;
            }
            if (!bySku.TryGetValue(item!.SkuId!, out var indexes))
            {
                bySku[item.SkuId!] = indexes = [];
            }
            indexes.Add(i);
        }

        // One grain call (and one durable write) per SKU; SKUs proceed concurrently.
        await Parallel.ForEachAsync(bySku, new ParallelOptions { MaxDegreeOfParallelism = BulkParallelism, CancellationToken = cancellationToken },
            async (group, _) =>
            {
                var updates = group.Value.Select(i => new StockLevelUpdate(items[i]!.WarehouseId!, items[i]!.OnHand!.Value, items[i]!.Version!.Value)).ToArray();
                IReadOnlyList<StockWriteResult> outcomes;
                try
                {
                    outcomes = await grains.GetGrain<ISkuGrain>(group.Key).SetStockBatch(updates, acting);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // Storage failed for this SKU only: report it, keep the others going. Nothing of this SKU was acknowledged.
                    foreach (var i in group.Value)
                    {
                        results[i] = new BulkItemResult(i, group.Key, items[i]!.WarehouseId, BulkItemStatus.Failed, null,
                            "the update could not be stored (nothing of this SKU was applied); send it again.");
                    }
                    return;
                }
                for (var k = 0; k < group.Value.Count; k++)
                {
                    var i = group.Value[k];
                    var outcome = outcomes[k];
                    var status = outcome.Status switch
                    {
                        StockWriteStatus.Applied or StockWriteStatus.Duplicate => BulkItemStatus.Applied, // a duplicate: applied before
                        StockWriteStatus.Stale => BulkItemStatus.Stale,
                        _ => BulkItemStatus.Invalid,
                    };
                    results[i] = new BulkItemResult(i, group.Key, updates[k].WarehouseId, status, outcome.Warehouse?.Version, outcome.Reason);
                }
            });

        return TypedResults.Ok(new BulkStockResponse(
            results.Count(r => r.Status == BulkItemStatus.Applied),
            results.Count(r => r.Status == BulkItemStatus.Stale),
            results.Count(r => r.Status == BulkItemStatus.Invalid),
            results,
            results.Count(r => r.Status == BulkItemStatus.Failed)));
    }

    public static async Task<Results<Ok<StockAlertPage>, ValidationProblem, ProblemHttpResult>> ListAlerts(
        ClaimsPrincipal user, IStockAlertQueries queries, CancellationToken cancellationToken,
        string? sellerId = null, string? skuId = null, [Description(KindDescription)] string? kind = null, string? cursor = null, int limit = 100)
    {
        var caller = Caller.From(user);
        var v = new Validation();
        v.Range("limit", limit, 1, MaxAlertPage);
        // Taken as text: ASP.NET binds an enum case-sensitively by member name, so the kind as the answers write it was a 400.
        var parsedKind = v.OneOf<StockAlertKind>("kind", kind);
        if (cursor is not null && !Ulid.TryParse(cursor, out _))
        {
            v.Add("cursor", "cursor must be the nextCursor of a previous page.");
        }
        if (!v.IsValid)
        {
            return v.Problem();
        }
        if (caller.ActingSellerId is { } acting)
        {
            if (sellerId is not null && sellerId != acting)
            {
                return Problems.Forbidden($"This key acts for seller '{acting}' and cannot read alerts of seller '{sellerId}'.");
            }
            sellerId = acting;
        }
        var alerts = await queries.ListAsync(new StockAlertQuery(sellerId, skuId, parsedKind, cursor, limit + 1), cancellationToken);
        var page = alerts.Take(limit).Select(a => new StockAlertResponse(a.AlertId, a.SkuId, a.SellerId, a.Kind, a.Available, a.Threshold, a.RaisedAt)).ToArray();
        return TypedResults.Ok(new StockAlertPage(page, alerts.Count > limit ? page[^1].AlertId : null));
    }

    public static async Task<Results<Ok<WarehouseResponse>, ValidationProblem, ProblemHttpResult>> PutWarehouse(
        string warehouseId, PutWarehouseRequest request, IGrainFactory grains)
    {
        var v = new Validation();
        v.Identifier("warehouseId", warehouseId);
        var name = v.RequiredText("name", request.Name, 200);
        v.Country("country", request.Country);
        if (!v.IsValid)
        {
            return v.Problem();
        }
        // The registry checks its room inside its turn, so two admins taking the last free place cannot both have it.
        var warehouse = await grains.GetGrain<IWarehouseRegistryGrain>(WarehouseRegistry.Key).RegisterIfRoom(warehouseId, name!, request.Country!);
        return warehouse is null
            ? Problems.Conflict($"At most {WarehouseRegistry.MaxWarehouses} warehouses can be registered.")
            : TypedResults.Ok(WarehouseResponse.From(warehouse));
    }

    public static async Task<Ok<IReadOnlyList<WarehouseResponse>>> ListWarehouses(IGrainFactory grains) =>
        TypedResults.Ok<IReadOnlyList<WarehouseResponse>>(
            (await grains.GetGrain<IWarehouseRegistryGrain>(WarehouseRegistry.Key).List()).Select(WarehouseResponse.From).ToArray());

    private static async Task<ProblemHttpResult?> UnknownWarehouse(IGrainFactory grains, string warehouseId) =>
        await grains.GetGrain<IWarehouseRegistryGrain>(WarehouseRegistry.Key).Find(warehouseId) is null
            ? Problems.Unprocessable($"Warehouse '{warehouseId}' is not registered; register it with PUT /api/v1/warehouses/{warehouseId} first.")
            : null;

    private static ProblemHttpResult WriteRefusal(string skuId, StockWriteResult result) => result.Status switch
    {
        StockWriteStatus.UnknownSku => Problems.NotFound($"SKU '{skuId}' does not exist; create it with PUT /api/v1/skus/{skuId} first."),
        StockWriteStatus.Forbidden => Problems.Forbidden(result.Reason ?? $"SKU '{skuId}' belongs to another seller."),
        _ => Problems.Unprocessable(result.Reason ?? "The stock change breaks a stock rule."),
    };
}
