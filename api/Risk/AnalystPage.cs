using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Orleans.Trade.Api.Risk;

/// <summary>
/// The analysts' web page (R-PAY-5): one self-contained HTML file. It holds no data and no secret; the analyst signs in with
/// an analyst or admin API key, which stays in the browser tab's session storage and is sent as X-Api-Key to the API.
/// </summary>
public static class AnalystPage
{
    private static readonly Lazy<byte[]> Html = new(() =>
    {
        using var stream = typeof(AnalystPage).Assembly.GetManifestResourceStream("analyst.html")
            ?? throw new InvalidOperationException("The analyst page is missing from the API assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    public static IEndpointRouteBuilder MapAnalystPage(this IEndpointRouteBuilder app)
    {
        app.MapGet("/analyst", (HttpContext context) =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'";
            headers.XContentTypeOptions = "nosniff";
            headers.CacheControl = "no-store";
            return Results.Bytes(Html.Value, "text/html; charset=utf-8");
        }).AllowAnonymous().ExcludeFromDescription();
        return app;
    }
}
