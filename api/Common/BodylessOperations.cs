using System.IO.Pipelines;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace Orleans.Trade.Api.Common;

/// <summary>
/// Refuses a body sent to an operation that takes none (accepting an order, confirming receipt, claiming a review): it
/// was skipped unread, so a caller sending a reason or a note believed it recorded. As a member an operation does not take
/// is refused, such a body answers 400; none, or an empty JSON object (<c>{}</c>, which clients often send), is taken.
/// </summary>
public static class BodylessOperations
{
    // Room for "{}" and some whitespace around it; anything longer is a body with content.
    private const int MaxIgnorableBytes = 256;

    private static readonly string[] ProblemJson = ["application/problem+json"];

    /// <summary>
    /// Adds the check to the operations that take no body, and only to them: an endpoint filter changes how ASP.NET Core invokes
    /// a handler (an invocation context and boxed arguments per request), which the operations that read a body (the checkout)
    /// should not pay for. The inferred metadata (a body parameter's accepted media types) is there when conventions run.
    /// </summary>
    public static TBuilder RefuseBodiesWhereNoneIsTaken<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.Add(endpoint =>
        {
            var method = endpoint.Metadata.OfType<MethodInfo>().FirstOrDefault();
            var verbs = endpoint.Metadata.OfType<IHttpMethodMetadata>().FirstOrDefault()?.HttpMethods ?? [];
            if (method is null || ReadsRawBody(method) || !verbs.Any(v => TakesNoBody(endpoint.Metadata, v)))
            {
                return;
            }
            endpoint.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status400BadRequest, typeof(ProblemDetails), ProblemJson));
            endpoint.FilterFactories.Add((_, next) => async invocation =>
            {
                var http = invocation.HttpContext;
                if (TakesNoBody(http.GetEndpoint()!, http.Request.Method) && !await IsEmptyOrEmptyObjectAsync(http.Request))
                {
                    return TypedResults.Problem(
                        $"{http.Request.Method} {http.Request.Path} takes no body; send none (or an empty JSON object {{}}). Nothing was done.",
                        statusCode: StatusCodes.Status400BadRequest, title: "Malformed request");
                }
                return await next(invocation);
            });
        });
        return builder;
    }

    private static bool TakesNoBody(Endpoint endpoint, string method) => TakesNoBody(endpoint.Metadata, method);

    private static bool TakesNoBody(IEnumerable<object> metadata, string method) =>
        (HttpMethods.IsPost(method) || HttpMethods.IsPut(method) || HttpMethods.IsPatch(method) || HttpMethods.IsDelete(method))
        && !metadata.OfType<IAcceptsMetadata>().Any();

    /// <summary>A handler that reads the request itself (the payment webhooks' signed bytes) decides about its body.</summary>
    private static bool ReadsRawBody(MethodInfo method) => method.GetParameters().Any(p =>
        p.ParameterType == typeof(HttpRequest) || p.ParameterType == typeof(HttpContext)
        || p.ParameterType == typeof(Stream) || p.ParameterType == typeof(PipeReader));

    private static async Task<bool> IsEmptyOrEmptyObjectAsync(HttpRequest request)
    {
        if (request.ContentLength == 0)
        {
            return true;
        }
        var buffer = new byte[MaxIgnorableBytes + 1];
        var read = 0;
        int got;
        while (read < buffer.Length && (got = await request.Body.ReadAsync(buffer.AsMemory(read), request.HttpContext.RequestAborted)) > 0)
        {
            read += got;
        }
        if (read > MaxIgnorableBytes)
        {
            return false;
        }
        var content = buffer.AsSpan(0, read).ToArray().Where(b => b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')).ToArray();
        return content is [] or [(byte)'{', (byte)'}'];
    }
}
