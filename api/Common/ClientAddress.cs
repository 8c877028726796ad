using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;

namespace Orleans.Trade.Api.Common;

/// <summary>
/// The address a request came from. Behind trusted proxies (<c>Risk:TrustProxyHeaders</c>), the one the outermost of them saw:
/// counted from the right of <c>X-Forwarded-For</c>, <c>Risk:TrustedProxyHops</c> entries in (default 1: the entry the proxy in
/// front of us appended), since a client can put anything it likes to the left. Otherwise the connection's address.
/// </summary>
public static class ClientAddress
{
    public static IPAddress? Of(HttpContext context, IConfiguration configuration)
    {
        var address = context.Connection.RemoteIpAddress;
        if (configuration.GetValue("Risk:TrustProxyHeaders", false))
        {
            var hops = context.Request.Headers["X-Forwarded-For"].ToString().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var trusted = Math.Max(1, configuration.GetValue("Risk:TrustedProxyHops", 1));
            // Fewer entries than trusted proxies: the request skipped an outer one, so only the rightmost entry was written by a
            // proxy of ours; anything to its left came from the client.
            var forwarded = hops.Length == 0 ? "" : hops[hops.Length >= trusted ? hops.Length - trusted : hops.Length - 1];
            if (IPAddress.TryParse(forwarded, out var parsed))
            {
                address = parsed;
            }
            else if (IPEndPoint.TryParse(forwarded, out var endpoint))
            {
                address = endpoint.Address; // proxies that append the client's port: "203.0.113.7:5123", "[2001:db8::1]:443"
            }
        }
        return address;
    }
}
