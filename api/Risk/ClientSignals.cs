using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Api.Risk;

/// <summary>
/// What a paying client reveals for risk scoring (R-PAY-5): the device fingerprint its app sends in <c>X-Device-Fingerprint</c>,
/// and its IP address and country. Behind trusted proxies (<c>Risk:TrustProxyHeaders</c>), the address is the one the outermost
/// of them saw: counted from the right of <c>X-Forwarded-For</c>, <c>Risk:TrustedProxyHops</c> entries in (default 1: the
/// entry the proxy in front of us appended), since a client can put anything it likes to the left; and the country is the
/// proxy's <c>X-Client-Country</c>. Otherwise the connection's address and an unknown country ("ZZ").
/// </summary>
public static class ClientSignals
{
    public const string DeviceHeader = "X-Device-Fingerprint";
    public const string CountryHeader = "X-Client-Country";

    public static RiskSignals From(HttpContext context, IConfiguration configuration)
    {
        var headers = context.Request.Headers;
        var device = headers[DeviceHeader].ToString().Trim();
        device = device.Length is > 0 and <= 128 ? device : RiskSignals.NoDevice;
        var ip = Common.ClientAddress.Of(context, configuration) is { } address ? Canonical(address) : "unknown";
        var country = "ZZ";
        if (configuration.GetValue("Risk:TrustProxyHeaders", false))
        {
            var claimed = headers[CountryHeader].ToString().Trim().ToUpperInvariant();
            if (Orleans.Trade.Common.Iso3166.IsKnown(claimed))
            {
                country = claimed;
            }
        }
        return new RiskSignals(device, ip, country);
    }

    /// <summary>
    /// An address as payments are scored with it (and as the policy's block list holds it): IPv4-mapped IPv6 (a dual-stack
    /// listener or proxy) as the IPv4 address, IPv6 in its compressed lower-case form. Null when the text is no address.
    /// </summary>
    public static string? CanonicalIp(string? text) =>
        System.Net.IPAddress.TryParse(text?.Trim(), out var address) && text!.Trim().Split('/').Length == 1 ? Canonical(address) : null;

    private static string Canonical(System.Net.IPAddress address) =>
        (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();
}
