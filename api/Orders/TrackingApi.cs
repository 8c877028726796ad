using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Orleans.Trade.Api.Auth;
using Orleans.Trade.Api.Common;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Api.Orders;

public sealed record TrackingEventRequest(
    [Required][property: Description("inTransit, customs (held at customs), outForDelivery, exception or delivered (delivers the order, as POST …/delivery does).")]
    string? Kind,
    [Required][property: Description("When the carrier saw it, with its offset: not before the order shipped, nor more than 10 minutes ahead of the platform's clock.")]
    DateTimeOffset? At,
    [property: Description("Where (up to 200 characters).")] string? Location,
    [property: Description("The carrier's words (up to 500 characters).")] string? Note);

/// <summary>Carrier tracking events of shipped orders (R-LOG-5), recorded by the order's carrier or an admin.</summary>
public static class TrackingApi
{
    public static IEndpointRouteBuilder MapTrackingApiV1(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1").WithTags("Orders")
            .MapPost("/orders/{orderId}/tracking-events", Record).RequireAuthorization().ProducesProblems(403, 404, 409);
        return app;
    }

    public static async Task<Results<Created<OrderResponse>, Ok<OrderResponse>, ValidationProblem, ProblemHttpResult>> Record(
        string orderId, TrackingEventRequest request, ClaimsPrincipal user, IGrainFactory grains)
    {
        var v = new Validation();
        var kind = request.Kind is null ? v.Required<TrackingEventKind>("kind", null) : v.OneOf<TrackingEventKind>("kind", request.Kind);
        v.Required("at", request.At);
        var location = v.OptionalText("location", request.Location, 200);
        var note = v.OptionalText("note", request.Note, 500);
        if (!v.IsValid)
        {
            return v.Problem();
        }
        if (!Ids.IsValid(orderId))
        {
            return Problems.NotFound($"Order '{orderId}' does not exist.");
        }
        var caller = Caller.From(user);
        var result = await grains.GetGrain<IOrderGrain>(orderId)
            .RecordTracking(new TrackingEventCommand(new OrderActor(caller.Role, caller.Subject), kind!.Value, request.At!.Value, location, note));
        return result.Status switch
        {
            TrackingEventStatus.Recorded => TypedResults.Created($"/api/v1/orders/{orderId}", OrderResponse.From(result.Order!)),
            TrackingEventStatus.Duplicate => TypedResults.Ok(OrderResponse.From(result.Order!)),
            TrackingEventStatus.NotFound => Problems.NotFound(result.Reason!),
            TrackingEventStatus.Forbidden => Problems.Forbidden(result.Reason!),
            TrackingEventStatus.Invalid => new Validation().Add(result.Field ?? "body", result.Reason!).Problem(),
            _ => Problems.Conflict(result.Reason!, new Dictionary<string, object?>
            {
                ["currentStatus"] = result.CurrentStatus is { } current ? Validation.CamelCase(current.ToString()) : null,
            }),
        };
    }
}
