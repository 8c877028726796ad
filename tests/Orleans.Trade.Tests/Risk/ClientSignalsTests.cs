using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Orleans.Trade.Api.Risk;

namespace Orleans.Trade.Tests.Risk;

/// <summary>R-PAY-5: the client address a payment is scored with, behind proxies that append to X-Forwarded-For.</summary>
public sealed class ClientSignalsTests
{
    private static string Address(string? forwardedFor, bool trust = true, int? hops = null)
    {
        var settings = new Dictionary<string, string?> { ["Risk:TrustProxyHeaders"] = trust ? "true" : "false" };
        if (hops is { } n)
        {
            settings["Risk:TrustedProxyHops"] = n.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse("10.0.0.9"); // the proxy in front of the silo
        if (forwardedFor is not null)
        {
            context.Request.Headers["X-Forwarded-For"] = forwardedFor;
        }
        return ClientSignals.From(context, new ConfigurationBuilder().AddInMemoryCollection(settings).Build()).IpAddress;
    }

    [Fact]
    public void Behind_one_appending_proxy_the_address_is_the_one_it_appended_not_what_the_client_wrote_first()
    {
        // The buyer sent "X-Forwarded-For: 198.51.100.1" itself; the proxy appended the address it saw.
        Assert.Equal("203.0.113.7", Address("198.51.100.1, 203.0.113.7"));
        Assert.Equal("203.0.113.7", Address("203.0.113.7"));
    }

    [Fact]
    public void Behind_two_proxies_the_address_is_the_second_from_the_right()
    {
        // Client-written entry, the client as the CDN saw it, the CDN as our ingress saw it.
        Assert.Equal("203.0.113.7", Address("198.51.100.1, 203.0.113.7, 192.0.2.50", hops: 2));
        // Fewer entries than proxies (a request that went round the CDN): only the rightmost entry is one of ours, the rest the client's.
        Assert.Equal("192.0.2.60", Address("198.51.100.1, 192.0.2.60", hops: 3));
        Assert.Equal("203.0.113.7", Address("203.0.113.7", hops: 3));
    }

    [Fact]
    public void An_entry_with_the_clients_port_is_read_as_its_address()
    {
        Assert.Equal("203.0.113.7", Address("198.51.100.1, 203.0.113.7:5123"));
        Assert.Equal("2001:db8::1", Address("[2001:db8::1]:443"));
        Assert.Equal("2001:db8::1", Address("2001:db8::1"));
    }

    [Fact]
    public void Without_trusted_proxies_or_a_usable_header_it_is_the_connections_address()
    {
        Assert.Equal("10.0.0.9", Address("203.0.113.7", trust: false));
        Assert.Equal("10.0.0.9", Address(null));
        Assert.Equal("10.0.0.9", Address("198.51.100.1, not-an-address"));
    }
}
