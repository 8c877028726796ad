using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;

namespace Orleans.Trade.Api.Common;

/// <summary>
/// Turns exceptions into ProblemDetails: unreadable input is the caller's 400, a storage or cluster hiccup is a 503 to retry
/// (nothing was acknowledged), anything else is logged and answered without internals.
/// </summary>
public sealed partial class TradeExceptionHandler(IProblemDetailsService problemDetails, ILogger<TradeExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is BadHttpRequestException unbound && QueryValues.Refusal(context, unbound) is { } refusal)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return await problemDetails.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, Exception = exception, ProblemDetails = refusal });
        }
        var (status, title, detail) = exception switch
        {
            BadHttpRequestException bad => (bad.StatusCode, "Malformed request", Describe(bad)),
            // PostgreSQL stores no NUL character (U+0000) in text: the caller's text, refused whole, never worth a retry.
            System.Data.Common.DbException { SqlState: "22021" or "22P05" } => (StatusCodes.Status400BadRequest, "Invalid request",
                "A text in the request holds a character that cannot be stored (the NUL character, U+0000); nothing was stored."),
            TimeoutException or OrleansException or Orleans.Trade.Common.TransientStorageException or System.Data.Common.DbException => (StatusCodes.Status503ServiceUnavailable, "Temporarily unavailable",
                "The request could not be completed in time and was not acknowledged; retry it (writes are idempotent by version or id)."),
            _ => (StatusCodes.Status500InternalServerError, "Unexpected error", "An unexpected error occurred; it has been logged."),
        };
        if (status >= 500)
        {
            logger.LogError(exception, "Request {Method} {Path} failed", context.Request.Method, context.Request.Path);
        }
        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            context.Response.Headers.RetryAfter = "1";
        }
        context.Response.StatusCode = status;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
    }

    private static string Describe(BadHttpRequestException bad)
    {
        if (bad.InnerException is UnstorableTextException text)
        {
            return $"The text at '{text.Path ?? "$"}' {text.Message} Nothing was stored.";
        }
        if (bad.InnerException is JsonException json)
        {
            var path = json.Path ?? "$";
            if (UnmappedMember().Match(json.Message) is { Success: true } unmapped)
            {
                var at = path.EndsWith("." + unmapped.Groups["name"].Value, StringComparison.Ordinal) ? path[..path.LastIndexOf('.')] : path;
                return $"The object at '{at}' has a member '{unmapped.Groups["name"].Value}' that this operation does not take (member names are "
                    + "camelCase, see the OpenAPI document); nothing was stored.";
            }
            return json.Message.Contains("could not be converted", StringComparison.Ordinal)
                ? $"The JSON value at '{path}' has the wrong type or is out of range (quantities and amounts are whole numbers, texts are quoted)."
                : $"The body is not valid JSON near '{path}': {FirstSentence(json.Message)}";
        }
        if (bad.Message.StartsWith("Implicit body inferred", StringComparison.Ordinal) || bad.Message.StartsWith("Required parameter", StringComparison.Ordinal))
        {
            return "A JSON object body is required.";
        }
        return bad.Message;
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    [GeneratedRegex("^The JSON property '(?<name>.*)' could not be mapped to any \\.NET member")]
    private static partial Regex UnmappedMember();
}
