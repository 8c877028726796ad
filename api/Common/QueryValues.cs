using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;

namespace Orleans.Trade.Api.Common;

/// <summary>
/// Answers a parameter value the framework could not bind (<c>?from=yesterday</c>, <c>?page=abc</c>) with a 400 whose
/// <c>errors</c> name the parameter as the caller writes it and say what it takes, as <see cref="Validation"/> does for
/// the values a handler checks itself. The framework's own words say only which C# parameter failed.
/// </summary>
public static partial class QueryValues
{
    /// <summary>The problem for a binding failure; null for any other malformed request.</summary>
    public static HttpValidationProblemDetails? Refusal(HttpContext context, BadHttpRequestException bad)
    {
        var failed = FailedBinding().Match(bad.Message);
        if (!failed.Success)
        {
            return null;
        }
        var parameterName = failed.Groups["name"].Value;
        // The exception handler has cleared the request's endpoint by now; its feature keeps the one that failed.
        var endpoint = context.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? context.GetEndpoint();
        var parameter = endpoint?.Metadata.GetMetadata<MethodInfo>()?.GetParameters()
            .FirstOrDefault(p => string.Equals(p.Name, parameterName, StringComparison.Ordinal));
        var name = parameter is null ? parameterName : NameAsSent(parameter);
        var type = parameter is null ? null : Nullable.GetUnderlyingType(parameter.ParameterType) ?? parameter.ParameterType;
        return new HttpValidationProblemDetails(new Dictionary<string, string[]> { [name] = [$"{name} {Expected(type)}"] })
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "Invalid request",
            Detail = $"The parameter '{name}' has an invalid value '{failed.Groups["value"].Value}'; see errors for what it takes.",
        };
    }

    private static string Expected(Type? type) => type switch
    {
        _ when type == typeof(int) || type == typeof(long) || type == typeof(short) =>
            "must be a whole number.",
        _ when type == typeof(DateTimeOffset) || type == typeof(DateTime) =>
            "must be an ISO 8601 date-time such as 2026-12-07T10:00:00Z.",
        _ when type == typeof(DateOnly) => "must be an ISO 8601 date such as 2026-12-07.",
        _ when type == typeof(bool) => "must be true or false.",
        _ when type == typeof(Guid) => "must be a GUID such as 3f2504e0-4f89-11d3-9a0c-0305e82c3301.",
        { IsEnum: true } => $"must be one of: {string.Join(", ", Enum.GetNames(type).Select(Validation.CamelCase))}.",
        _ => "has a value of the wrong form; see the OpenAPI document.",
    };

    private static string NameAsSent(ParameterInfo parameter)
    {
        var attributes = parameter.GetCustomAttributes(inherit: false);
        return attributes.OfType<IFromQueryMetadata>().Select(a => a.Name).FirstOrDefault(n => n is not null)
            ?? attributes.OfType<IFromRouteMetadata>().Select(a => a.Name).FirstOrDefault(n => n is not null)
            ?? attributes.OfType<IFromHeaderMetadata>().Select(a => a.Name).FirstOrDefault(n => n is not null)
            ?? parameter.Name!;
    }

    [GeneratedRegex("^Failed to bind parameter \"[^\"]* (?<name>[A-Za-z0-9_]+)\" from \"(?<value>.*)\"\\.$")]
    private static partial Regex FailedBinding();
}
