using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;

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
