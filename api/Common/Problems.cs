using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Orleans.Trade.Api.Common;

/// <summary>RFC 9457 answers that tell the caller what is wrong.</summary>
public static class Problems
{
    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "Not found");

    public static ProblemHttpResult Conflict(string detail, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status409Conflict, title: "Conflict", extensions: extensions);

    public static ProblemHttpResult Forbidden(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");

    public static ProblemHttpResult Unprocessable(string detail, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status422UnprocessableEntity, title: "Unprocessable request", extensions: extensions);
}

/// <summary>
/// What the OpenAPI document lists as an operation's ProblemDetails answers. A handler's typed results name its success and
/// its 400 only (a <see cref="ProblemHttpResult"/> carries no status of its own), so the 403, 404, 409 and 422 it answers are
/// named where it is mapped, and the answers any request may get (401, 429, 503) for every operation at once.
/// </summary>
public static class ProblemResponses
{
    private static readonly string[] ProblemJson = ["application/problem+json"];

    public static RouteHandlerBuilder ProducesProblems(this RouteHandlerBuilder builder, params int[] statuses)
    {
        foreach (var status in statuses)
        {
            builder.ProducesProblem(status);
        }
        return builder;
    }

    /// <summary>503 for every operation (storage or cluster unavailable: retry); 401 and 429 for those that take an API key.</summary>
    public static TBuilder ProducesCommonProblems<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.Finally(endpoint =>
        {
            if (endpoint.Metadata.OfType<IAuthorizeData>().Any() && !endpoint.Metadata.OfType<IAllowAnonymous>().Any())
            {
                endpoint.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status401Unauthorized, typeof(ProblemDetails), ProblemJson));
                endpoint.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status429TooManyRequests, typeof(ProblemDetails), ProblemJson));
            }
            endpoint.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status503ServiceUnavailable, typeof(ProblemDetails), ProblemJson));
        });
        return builder;
    }
}

/// <summary>
/// Gives the framework's own answers a detail. The status-code pages answer a path no endpoint serves, a method its endpoint
/// does not take, a body that is not JSON and one too large with a title alone; a caller should learn what to change from the answer.
/// </summary>
public static class FrameworkProblems
{
    public static void Describe(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        if (problem.Detail is not null)
        {
            return;
        }
        var http = context.HttpContext;
        problem.Detail = problem.Status switch
        {
            StatusCodes.Status404NotFound when http.GetEndpoint() is null =>
                $"No endpoint serves {http.Request.Path}; the API's endpoints are listed at /openapi/v1.json.",
            StatusCodes.Status405MethodNotAllowed =>
                $"{http.Request.Method} is not allowed on {http.Request.Path}; it allows {http.Response.Headers.Allow}.",
            StatusCodes.Status415UnsupportedMediaType =>
                "The body must be JSON, sent with the header Content-Type: application/json.",
            // The endpoint's body reading swallows the server's exception and leaves only the status: nothing was read or stored.
            StatusCodes.Status413PayloadTooLarge =>
                http.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize is { } limit
                    ? $"The body is larger than the {limit} bytes a request may carry; nothing was stored."
                    : "The body is larger than a request may carry; nothing was stored.",
            _ => null,
        };
    }
}
