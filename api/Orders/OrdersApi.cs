using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Configuration;
using Orleans.Trade.Api.Auth;
using Orleans.Trade.Api.Common;
using Orleans.Trade.Common;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Api.Orders;

/// <summary>Checkout, the order lifecycle, imports and order lists (R-ORD-1..6).</summary>
public static class OrdersApi
{
    public const int MaxCartLines = 50;
    public const long MaxQuantityPerLine = 999;
    private const int MaxPageSize = 100;

    public static IEndpointRouteBuilder MapOrdersApiV1(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").WithTags("Orders");
        api.MapPost("/checkout", Checkout).RequireAuthorization(Policies.Buyers).ProducesProblems(403, 409, 422);
        api.MapPost("/orders/import", Import).RequireAuthorization(Policies.CatalogWriters).ProducesProblems(403, 409, 422);
        api.MapGet("/orders/{orderId}", GetOrder).RequireAuthorization().ProducesProblems(404);
        api.MapGet("/orders/{orderId}/timeline", GetTimeline).RequireAuthorization().ProducesProblems(404);
        api.MapPost("/orders/{orderId}/cancel", (string orderId, ReasonRequest? body, ClaimsPrincipal user, IGrainFactory grains) =>
            Act(orderId, new OrderCommand(OrderAction.Cancel, Actor(user), body?.Reason), grains)).RequireAuthorization()
            .ProducesProblems(403, 404, 409, 422);
        api.MapPost("/orders/{orderId}/accept", (string orderId, ClaimsPrincipal user, IGrainFactory grains) =>
            Act(orderId, new OrderCommand(OrderAction.Accept, Actor(user)), grains)).RequireAuthorization().ProducesProblems(403, 404, 409, 422);
        api.MapPost("/orders/{orderId}/ship", Ship).RequireAuthorization().ProducesProblems(403, 404, 409, 422);
        api.MapPost("/orders/{orderId}/delivery", (string orderId, ReasonRequest? body, ClaimsPrincipal user, IGrainFactory grains) =>
            Act(orderId, new OrderCommand(OrderAction.RecordDelivery, Actor(user), body?.Reason), grains)).RequireAuthorization()
            .ProducesProblems(403, 404, 409, 422);
        api.MapPost("/orders/{orderId}/confirm-receipt", (string orderId, ClaimsPrincipal user, IGrainFactory grains) =>
            Act(orderId, new OrderCommand(OrderAction.Complete, Actor(user), "buyer confirmed receipt"), grains)).RequireAuthorization()
            .ProducesProblems(403, 404, 409, 422);
        api.MapPost("/orders/{orderId}/payment-confirmations", (string orderId, ReasonRequest? body, ClaimsPrincipal user, IGrainFactory grains) =>
            Act(orderId, new OrderCommand(OrderAction.ConfirmPayment, Actor(user), body?.Reason ?? "payment confirmed"), grains)).RequireAuthorization(Policies.Admins)
            .ProducesProblems(403, 404, 409, 422);
        api.MapPost("/orders/{orderId}/review-approval", (string orderId, ReasonRequest? body, ClaimsPrincipal user, IGrainFactory grains) =>
            Act(orderId, new OrderCommand(OrderAction.ApproveReview, Actor(user), body?.Reason), grains)).RequireAuthorization(Policies.Reviewers)
            .ProducesProblems(403, 404, 409, 422);
        api.MapPost("/orders/{orderId}/close", (string orderId, ReasonRequest? body, ClaimsPrincipal user, IGrainFactory grains) =>
            Act(orderId, new OrderCommand(OrderAction.Close, Actor(user), body?.Reason ?? "closed"), grains)).RequireAuthorization(Policies.Admins)
            .ProducesProblems(403, 404, 409, 422);
        api.MapGet("/sellers/{sellerId}/orders", ListSellerOrders).RequireAuthorization().ProducesProblems(403);
        api.MapGet("/buyers/{buyerId}/orders", ListBuyerOrders).RequireAuthorization().ProducesProblems(403);
        api.MapGet("/service-tickets", ListTickets).RequireAuthorization(Policies.AlertReaders).ProducesProblems(403);
        api.MapPost("/service-tickets/{ticketId}/closure", CloseTicket).RequireAuthorization(Policies.Reviewers).ProducesProblems(403, 404, 409);
        api.MapPost("/admin/clock", AdvanceClock).RequireAuthorization(Policies.Admins).ExcludeFromDescription();
        return app;
    }

    private static OrderActor Actor(ClaimsPrincipal user)
    {
        var caller = Caller.From(user);
        return new OrderActor(caller.Role, caller.Subject);
    }

    public static async Task<Results<CheckoutCreated, ValidationProblem, ProblemHttpResult>> Checkout(
        [FromHeader(Name = "Idempotency-Key"), Required] string? idempotencyKey, CheckoutRequest request, ClaimsPrincipal user, IGrainFactory grains,
        Payments.ICardTokenStore cards, TradeClock clock, HttpContext http, IConfiguration configuration, Analytics.SalesRecorder sales,
        CancellationToken cancellationToken)
    {
        var startedAt = clock.GetUtcNow();
        var caller = Caller.From(user);
        var v = new Validation();
        if (idempotencyKey is null || idempotencyKey.Length is < 8 or > 100 || idempotencyKey.Any(char.IsControl))
        {
            v.Add("Idempotency-Key", "The Idempotency-Key header is required: 8-100 characters, unique per checkout (e.g. a UUID).");
        }
        var buyerId = request.BuyerId ?? (caller.Role == Roles.Buyer ? caller.Subject : null);
        if (buyerId is null) v.Add("buyerId", "buyerId is required.");
        else v.Identifier("buyerId", buyerId);
        v.Currency("currency", request.Currency);
        var shipTo = ValidateAddress(v, request.ShipTo);
        var items = ValidateItems(v, request.Items);
        // A storefront that sends an empty code means none.
        var couponCode = string.IsNullOrWhiteSpace(request.CouponCode) ? null : request.CouponCode.Trim();
        if (couponCode is not null && !CouponCodes.IsValid(couponCode))
        {
            v.Add("couponCode", $"couponCode is a seller's coupon code: 1 to {CouponCodes.MaxLength} letters, digits or dashes.");
        }
        var attribution = request.Attribution is { } named ? Analytics.AdAttribution.Check(v, "attribution.", named.Channel, named.Campaign) : null;
        if (!v.IsValid)
        {
            return v.Problem();
        }
        if (caller.Role == Roles.Buyer && caller.Subject != buyerId)
        {
            return Problems.Forbidden($"This key acts for buyer '{caller.Subject}' and cannot check out for buyer '{buyerId}'.");
        }
        // Inline payment is checked before any stock is touched, so a bad card token costs nothing.
        Orleans.Trade.Payments.PaymentInstrument? instrument = null;
        if (request.Payment is { } payment)
        {
            var (resolved, problem) = await Payments.PaymentsApi.Instrument(v, "payment.", payment, buyerId!, cards, clock, cancellationToken);
            if (!v.IsValid)
            {
                return v.Problem();
            }
            if (problem is not null)
            {
                return problem;
            }
            instrument = resolved;
        }

        var command = new CheckoutCommand(buyerId!, request.Currency!, shipTo!, items!, couponCode is null ? null : CouponCodes.Normalize(couponCode), "", $"{caller.Role}:{caller.Subject ?? caller.KeyId}",
            Attribution: attribution);
        // The inline payment is part of the body: the same key with another payment method is another request. The hashed shape
        // is the command's fields before it carried the payment registration, so stored hashes stay valid.
        command = command with { RequestHash = CheckoutHash.Of(command, request.Payment) };
        // Keys are scoped to the caller: the same key from two buyers are two checkouts.
        var scope = caller.Name;
        // One payment per seller's order, keyed by the checkout's own key: a retried checkout finds the same payments. Not in the
        // request hash (the client's signals may differ on a retry); a cart of one order registers it as it is placed.
        var registration = instrument is null ? null
            : Payments.PaymentsApi.Registration($"checkout:{scope}/{idempotencyKey}", instrument, caller, Risk.ClientSignals.From(http, configuration));
        var checkoutKey = $"{scope}/{idempotencyKey}";
        command = command with { Payment = registration };
        // A one-line cart is placed by its SKU in one call (a coupon's redemption taken first, from its seller's coupons); the saga
        // answers whatever that path leaves (see ISkuGrain.PlaceOrder).
        var result = command.Items.Count == 1
            ? await grains.GetGrain<Orleans.Trade.Inventory.ISkuGrain>(command.Items[0].SkuId).PlaceOrder(new SkuCheckout(checkoutKey, command))
            : null;
        result ??= await grains.GetGrain<ICheckoutGrain>(checkoutKey).Checkout(command);
        if (result.Status == CheckoutStatus.Created)
        {
            sales.Placed(result.Orders, startedAt);
        }
        if (result.Status == CheckoutStatus.Created && registration is not null)
        {
            var marks = http.RequestServices.GetService<INewGrainMarks>();
            var started = result.Payment is { } registered
                ? [await Payments.PaymentsApi.Start(registered, grains, marks)]
                : await Task.WhenAll(result.Orders.Select(o => Payments.PaymentsApi.Start(grains.GetGrain<IOrderGrain>(o.OrderId), registration, grains, marks)));
            var orders = await Task.WhenAll(result.Orders.Select(o => grains.GetGrain<IOrderGrain>(o.OrderId).CheckoutView()));
            // The orders are placed whatever their payments' fate: a refused payment is answered beside them, not dropped.
            var refusals = started.Select((s, i) => (s.Problem, OrderId: result.Orders[result.Payment is null ? i : 0].OrderId))
                .Where(r => r.Problem is not null)
                .Select(r => new CheckoutPaymentRefusal(r.OrderId, r.Problem!.StatusCode, r.Problem.ProblemDetails.Title ?? "",
                    r.Problem.ProblemDetails.Detail ?? ""))
                .ToArray();
            return new CheckoutCreated($"/api/v1/orders/{result.Orders[0].OrderId}", new CheckoutResponse(result.CheckoutId,
                orders.Select((o, i) => OrderResponse.From(o ?? result.Orders[i])).ToArray(),
                started.Where(s => s.Payment is not null).Select(s => Payments.PaymentResponse.From(s.Payment!, caller)).ToArray(),
                refusals.Length == 0 ? null : refusals));
        }
        return result.Status switch
        {
            CheckoutStatus.Created => new CheckoutCreated($"/api/v1/orders/{result.Orders[0].OrderId}",
                new CheckoutResponse(result.CheckoutId, result.Orders.Select(OrderResponse.From).ToArray())),
            CheckoutStatus.OutOfStock => Problems.Conflict(result.Reason ?? "Some lines cannot be had.",
                new Dictionary<string, object?> { ["checkoutId"] = result.CheckoutId, ["shortLines"] = result.ShortLines }),
            _ => Problems.Unprocessable(result.Reason ?? "The checkout was refused."),
        };
    }

    public static async Task<Results<CheckoutCreated, ValidationProblem, ProblemHttpResult>> Import(
        OrderImportRequest request, ClaimsPrincipal user, IGrainFactory grains)
    {
        var caller = Caller.From(user);
        var v = new Validation();
        v.Identifier("platform", request.Platform);
        v.Identifier("externalOrderId", request.ExternalOrderId);
        var sellerId = request.SellerId ?? caller.ActingSellerId;
        if (sellerId is null) v.Add("sellerId", "sellerId is required.");
        else v.Identifier("sellerId", sellerId);
        v.Identifier("buyerId", request.BuyerId);
        v.Currency("currency", request.Currency);
        var shipTo = ValidateAddress(v, request.ShipTo);
        var items = ValidateItems(v, request.Items);
        if (!v.IsValid)
        {
            return v.Problem();
        }
        if (caller.RefusedFor(sellerId!, "import orders of") is { } forbidden)
        {
            return forbidden;
        }
        var external = new ExternalOrderRef(request.Platform!, request.ExternalOrderId!, request.Paid ?? true);
        var command = new OrderImportCommand(sellerId!, request.BuyerId!, request.Currency!, shipTo!, items!, external, "", $"{caller.Role}:{caller.Subject ?? caller.KeyId}");
        // The buyer is the other platform's: stored under '{platform}:{buyerId}', so an ERP cannot put an order in the list (and
        // the hands) of a buyer of this platform who has the same id. The hash is of the request as sent, as before, so an import
        // stored before the buyer was namespaced is still answered to its retries.
        command = command with { RequestHash = Hash(command with { Actor = "" }), BuyerId = $"{external.Platform}:{request.BuyerId}" };
        // Keyed per seller; an import stored under the earlier seller-less key is still answered there, for its seller only.
        var legacy = grains.GetGrain<IOrderImportGrain>($"{external.Platform}/{external.ExternalOrderId}");
        var importer = await legacy.Holds(sellerId!, command.RequestHash)
            ? legacy
            : grains.GetGrain<IOrderImportGrain>($"{sellerId}/{external.Platform}/{external.ExternalOrderId}");
        var result = await importer.Import(command);
        return result.Status switch
        {
            CheckoutStatus.Created => new CheckoutCreated($"/api/v1/orders/{result.Orders[0].OrderId}",
                new CheckoutResponse(result.CheckoutId, result.Orders.Select(OrderResponse.From).ToArray())),
            CheckoutStatus.OutOfStock => Problems.Conflict(result.Reason ?? "Some lines cannot be had.",
                new Dictionary<string, object?> { ["shortLines"] = result.ShortLines }),
            _ => Problems.Unprocessable(result.Reason ?? "The import was refused."),
        };
    }

    public static async Task<Results<Ok<OrderResponse>, ProblemHttpResult>> GetOrder(string orderId, ClaimsPrincipal user, IGrainFactory grains)
    {
        var view = Ids.IsValid(orderId) ? await grains.GetGrain<IOrderGrain>(orderId).Get() : null;
        if (view is null || !MayRead(Caller.From(user), view))
        {
            // Someone else's order is reported as missing, so order ids cannot be probed.
            return Problems.NotFound($"Order '{orderId}' does not exist.");
        }
        return TypedResults.Ok(OrderResponse.From(view));
    }

    public static async Task<Results<Ok<TimelineResponse>, ProblemHttpResult>> GetTimeline(string orderId, ClaimsPrincipal user, IGrainFactory grains)
    {
        var order = Ids.IsValid(orderId) ? grains.GetGrain<IOrderGrain>(orderId) : null;
        var view = order is null ? null : await order.Get();
        if (view is null || !MayRead(Caller.From(user), view))
        {
            return Problems.NotFound($"Order '{orderId}' does not exist.");
        }
        return TypedResults.Ok(new TimelineResponse(orderId, await order!.GetTimeline()));
    }

    public static Task<Results<Ok<OrderResponse>, ValidationProblem, ProblemHttpResult>> Ship(
        string orderId, ShipRequest request, ClaimsPrincipal user, IGrainFactory grains)
    {
        var v = new Validation();
        v.RequiredText("carrier", request.Carrier, 64);
        v.RequiredText("trackingNumber", request.TrackingNumber, 64);
        if (!v.IsValid)
        {
            return Task.FromResult<Results<Ok<OrderResponse>, ValidationProblem, ProblemHttpResult>>(v.Problem());
        }
        var carrier = request.Carrier!.Trim();
        return Act(orderId, new OrderCommand(OrderAction.Ship, Actor(user), null, carrier, request.TrackingNumber!.Trim()), grains,
            async view => await CarrierRefusalAsync(view, carrier, grains) is { } refusal
                ? Problems.Unprocessable(refusal, new Dictionary<string, object?> { ["field"] = "carrier" })
                : null);
    }

    /// <summary>
    /// Why the order cannot ship with the carrier (R-LOG-2), when it would ship now or change carrier; null when it may (a retry of
    /// its shipment as stored is never refused: it changes nothing).
    /// </summary>
    internal static Task<string?> CarrierRefusalAsync(OrderView view, string carrier, IGrainFactory grains) =>
        view.Status == OrderStatus.AwaitingShipment || view.Shipment is { } had && had.Carrier != carrier
            ? grains.GetGrain<Orleans.Trade.Logistics.ICarrierPlannerGrain>(0).ShipRefusal(view, carrier)
            : Task.FromResult<string?>(null);

    private static async Task<Results<Ok<OrderResponse>, ValidationProblem, ProblemHttpResult>> Act(string orderId, OrderCommand command, IGrainFactory grains,
        Func<OrderView, Task<ProblemHttpResult?>>? precheck = null)
    {
        if (command.Reason is { Length: > 500 })
        {
            return new Validation().Add("reason", "reason must be at most 500 characters.").Problem();
        }
        var order = Ids.IsValid(orderId) ? grains.GetGrain<IOrderGrain>(orderId) : null;
        var view = order is null ? null : await order.Get();
        // A carrier reads no orders; it may record the delivery of one it carries (the order checks the shipment's carrier).
        var carrierDelivery = command.Actor.Role == Roles.Carrier && command.Action == OrderAction.RecordDelivery;
        if (view is null || !(carrierDelivery || MayRead(new Caller("", command.Actor.Role, command.Actor.Subject), view)))
        {
            return Problems.NotFound($"Order '{orderId}' does not exist.");
        }
        if (precheck is not null && await precheck(view) is { } refused)
        {
            return refused;
        }
        var result = await order!.Apply(command);
        return result.Status switch
        {
            TransitionStatus.Applied => TypedResults.Ok(OrderResponse.From(result.Order!)),
            TransitionStatus.NotFound => Problems.NotFound(result.Reason!),
            TransitionStatus.Forbidden => Problems.Forbidden(result.Reason!),
            TransitionStatus.Invalid => Problems.Unprocessable(result.Reason!),
            _ => Problems.Conflict(result.Reason!, new Dictionary<string, object?> { ["currentStatus"] = result.Order is { } current ? Validation.CamelCase(current.Status.ToString()) : null }),
        };
    }

    /// <summary>The order, if it exists and the caller may see it; someone else's order counts as missing.</summary>
    internal static async Task<(IOrderGrain? Grain, OrderView? View)> ReadableAsync(string orderId, Caller caller, IGrainFactory grains)
    {
        var order = Ids.IsValid(orderId) ? grains.GetGrain<IOrderGrain>(orderId) : null;
        var view = order is null ? null : await order.Get();
        return view is not null && MayRead(caller, view) ? (order, view) : (null, null);
    }

    internal static bool MayRead(Caller caller, OrderView view) =>
        caller.Role is Roles.Admin or Roles.Analyst
        || (caller.Role == Roles.Buyer && caller.Subject == view.BuyerId)
        || (caller.Role is Roles.Seller or Roles.Erp && caller.Subject == view.SellerId);

    public static Task<Results<Ok<OrderListResponse>, ValidationProblem, ProblemHttpResult>> ListSellerOrders(
        string sellerId, ClaimsPrincipal user, IOrderQueries queries, CancellationToken cancellationToken,
        [Description(StatusDescription)] string? status = null, DateTimeOffset? from = null, DateTimeOffset? to = null, int page = 1,
        int pageSize = 20, [Description(CursorDescription)] string? cursor = null)
    {
        var caller = Caller.From(user);
        var allowed = caller.Role is Roles.Admin or Roles.Analyst || (caller.Role is Roles.Seller or Roles.Erp && caller.Subject == sellerId);
        return List(allowed, new OrderListQuery(sellerId, null, null, from, to, page, pageSize), status, cursor, queries, cancellationToken);
    }

    public static Task<Results<Ok<OrderListResponse>, ValidationProblem, ProblemHttpResult>> ListBuyerOrders(
        string buyerId, ClaimsPrincipal user, IOrderQueries queries, CancellationToken cancellationToken,
        [Description(StatusDescription)] string? status = null, DateTimeOffset? from = null, DateTimeOffset? to = null, int page = 1,
        int pageSize = 20, [Description(CursorDescription)] string? cursor = null)
    {
        var caller = Caller.From(user);
        var allowed = caller.Role is Roles.Admin or Roles.Analyst || (caller.Role == Roles.Buyer && caller.Subject == buyerId);
        return List(allowed, new OrderListQuery(null, buyerId, null, from, to, page, pageSize), status, cursor, queries, cancellationToken);
    }

    private const string CursorDescription =
        "The nextCursor of the previous page: the page after it, with the same filters (keyset paging: as fast on the thousandth " +
        "page as on the first; no total). Not with page.";

    private const string StatusDescription = "Only orders in this status, as the answers write it (awaitingPayment, paid, riskReview, ...).";

    private static async Task<Results<Ok<OrderListResponse>, ValidationProblem, ProblemHttpResult>> List(
        bool allowed, OrderListQuery query, string? status, string? cursor, IOrderQueries queries, CancellationToken cancellationToken)
    {
        if (!allowed)
        {
            return Problems.Forbidden("This key may list only its own orders.");
        }
        var v = new Validation();
        query = query with { Status = v.OneOf<OrderStatus>("status", status) };
        v.Range("page", query.Page, 1, 100_000);
        v.Range("pageSize", query.PageSize, 1, MaxPageSize);
        if (query.From is { } f && query.To is { } t && f >= t)
        {
            v.Add("from", "from must be earlier than to.");
        }
        if (cursor is not null)
        {
            if (!OrderListCursor.TryParse(cursor, out var after))
            {
                v.Add("cursor", "cursor must be the nextCursor of a previous page.");
            }
            else if (query.Page != 1)
            {
                v.Add("page", "page and cursor are two ways to page; give one.");
            }
            query = query with { After = after };
        }
        if (!v.IsValid)
        {
            return v.Problem();
        }
        var page = await queries.ListAsync(query, cancellationToken);
        return TypedResults.Ok(new OrderListResponse(page.Items, page.Total, query.Page, query.PageSize, page.Next?.ToString()));
    }

    /// <summary>
    /// R-ORD-6: the customer-service work queue (open tickets, earliest due first, each saying whether it is overdue) and the
    /// history (closed tickets, newest first, with who closed them, when and what was done); a seller or erp key sees its own.
    /// </summary>
    public static async Task<Results<Ok<IReadOnlyList<ServiceTicketResponse>>, ValidationProblem>> ListTickets(
        ClaimsPrincipal user, IOrderQueries queries, TradeClock clock, CancellationToken cancellationToken, int limit = 100,
        [Description("open (the default: earliest due first) or closed (newest first).")] string? status = null,
        [Description("Only tickets of this kind (LateShipment, StalledShipment, ReviewOverdue, RefundFailed, DisputeAwaitingSeller, DisputeArbitration, ...).")] string? kind = null,
        [Description("Only the tickets of this order.")] string? orderId = null,
        [Description("The ticketId of the last ticket of the page before: the page after it, with the same filters.")] string? after = null)
    {
        var v = new Validation();
        v.Range("limit", limit, 1, 500);
        var closed = status?.Trim().ToLowerInvariant() switch
        {
            null or "open" => false,
            "closed" => true,
            _ => (bool?)null,
        };
        if (closed is null) v.Add("status", "status must be open or closed.");
        if (kind is not null && (kind.Length is 0 or > 64 || !kind.All(char.IsAsciiLetterOrDigit))) v.Add("kind", "kind is a ticket kind: 1-64 letters or digits, as the tickets write it.");
        if (orderId is not null && !Ids.IsValid(orderId)) v.Add("orderId", "orderId must be an order id.");
        if (after is not null && (after.Length > 200 || after.Any(char.IsControl))) v.Add("after", "after must be the ticketId of a ticket of the page before.");
        if (!v.IsValid)
        {
            return v.Problem();
        }
        var caller = Caller.From(user);
        var rows = await queries.TicketsAsync(new TicketQuery(closed!.Value, caller.ActingSellerId, kind, orderId, after, limit), cancellationToken);
        var now = clock.GetUtcNow();
        return TypedResults.Ok<IReadOnlyList<ServiceTicketResponse>>(rows.Select(r => ServiceTicketResponse.From(r, now)).ToArray());
    }

    /// <summary>
    /// R-ORD-6: customer service closes a ticket once it has acted (a refund the provider refused, paid back by hand), saying what
    /// it did. Tickets whose exception the order itself ends (a late order shipped) close by themselves.
    /// </summary>
    public static async Task<Results<Ok<TicketClosureResponse>, ValidationProblem, ProblemHttpResult>> CloseTicket(
        string ticketId, TicketClosureRequest request, ClaimsPrincipal user, IOrderQueries queries, TradeClock clock, CancellationToken cancellationToken)
    {
        var v = new Validation();
        if (ticketId.Length > 200 || ticketId.Any(char.IsControl)) v.Add("ticketId", "ticketId is at most 200 characters, without control characters.");
        if (string.IsNullOrWhiteSpace(request.Note)) v.Add("note", "note is required: say what was done.");
        else if (request.Note.Length > 2_000) v.Add("note", "note must be at most 2000 characters.");
        if (!v.IsValid)
        {
            return v.Problem();
        }
        var caller = Caller.From(user);
        var closedBy = caller.Name;
        var at = clock.GetUtcNow();
        var note = request.Note!.Trim();
        return await queries.CloseTicketAsync(ticketId, closedBy, at, note, cancellationToken) switch
        {
            TicketClosureOutcome.Closed => TypedResults.Ok(new TicketClosureResponse(ticketId, "closed", closedBy, at, note)),
            TicketClosureOutcome.NotFound => Problems.NotFound($"Ticket '{ticketId}' does not exist."),
            _ => Problems.Conflict($"Ticket '{ticketId}' is closed already."),
        };
    }

    /// <summary>Test-only: runs business time ahead. Refused unless the silo was started with Clock:AllowTestControl=true.</summary>
    public static Results<Ok<ClockResponse>, ProblemHttpResult> AdvanceClock(ClockRequest request, TradeClock clock, IConfiguration configuration)
    {
        if (!configuration.GetValue("Clock:AllowTestControl", false))
        {
            return Problems.NotFound("The clock cannot be moved on this silo.");
        }
        if (request.AdvanceSeconds is not (> 0 and < 400 * 86_400) || request.AdvanceSeconds is not { } seconds)
        {
            return Problems.Unprocessable("advanceSeconds must be positive and at most 400 days.");
        }
        clock.Advance(TimeSpan.FromSeconds(seconds));
        return TypedResults.Ok(new ClockResponse(clock.GetUtcNow(), clock.Offset.TotalSeconds));
    }

    /// <summary>The address a request gives under <paramref name="name"/> (the rules name its fields under shipTo).</summary>
    internal static ShippingAddress? ValidateAddress(Validation v, ShippingAddressRequest? a, string name = "shipTo")
    {
        if (a is null)
        {
            v.Add(name, $"{name} is required.");
            return null;
        }
        var address = new ShippingAddress(a.Name?.Trim() ?? "", a.Line1?.Trim() ?? "", a.Line2?.Trim(), a.City?.Trim() ?? "", a.Region?.Trim(),
            a.PostalCode?.Trim() ?? "", a.Country?.Trim() ?? "", a.Phone?.Trim() ?? "");
        foreach (var (field, rule) in ShippingAddressRules.Check(address))
        {
            v.Add(name == "shipTo" ? field : name + field["shipTo".Length..], name == "shipTo" ? rule : rule.Replace("shipTo.", name + ".", StringComparison.Ordinal));
        }
        return address;
    }

    private static IReadOnlyList<CartLine>? ValidateItems(Validation v, IReadOnlyList<CartLineRequest?>? items)
    {
        if (items is null || items.Count == 0 || items.Count > MaxCartLines)
        {
            v.Add("items", $"items must hold 1 to {MaxCartLines} lines.");
            return null;
        }
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i] is not { } item)
            {
                v.Add($"items[{i}]", $"items[{i}] must not be null.");
                continue;
            }
            if (!Ids.IsValid(item.SkuId)) v.Add($"items[{i}].skuId", $"items[{i}].skuId is required: a SKU id.");
            if (item.Quantity is not (>= 1 and <= MaxQuantityPerLine)) v.Add($"items[{i}].quantity", $"items[{i}].quantity must be between 1 and {MaxQuantityPerLine}.");
        }
        if (!v.IsValid)
        {
            return null;
        }
        // The same SKU twice is one line; the order of first appearance is kept. A cart holds at most MaxCartLines lines, so a
        // scan of the lines so far is cheaper than a lookup table, and a cart of distinct SKUs (a hot checkout's one line) costs
        // one array.
        var lines = new CartLine[items.Count];
        var count = 0;
        foreach (var item in items)
        {
            var at = 0;
            while (at < count && !string.Equals(lines[at].SkuId, item!.SkuId, StringComparison.Ordinal))
            {
                at++;
            }
            lines[at] = at < count
                ? lines[at] with { Quantity = lines[at].Quantity + item!.Quantity!.Value }
                : new CartLine(item!.SkuId!, item.Quantity!.Value);
            count = Math.Max(count, at + 1);
        }
        if (count < lines.Length)
        {
            Array.Resize(ref lines, count);
        }
        foreach (var line in lines)
        {
            if (line.Quantity > MaxQuantityPerLine)
            {
                v.Add("items", $"SKU '{line.SkuId}' appears with more than {MaxQuantityPerLine} units in total.");
            }
        }
        return lines;
    }

    /// <summary>SHA-256 of the command's JSON (the same UTF-8 bytes as before, written directly instead of through a string).</summary>
    private static string Hash<T>(T command) =>
        Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(command)));
}
