using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Trade.Api.Common;

namespace Orleans.Trade.Api.Auth;

/// <summary>
/// Limits how often one client address may present an API key that fails verification: a token bucket per address (an IPv6
/// address by its /64, what one host usually holds), <c>RateLimits:FailedAuthenticationsPerMinute</c> (default 30) refilled
/// continuously, up to <c>RateLimits:FailedAuthenticationBurst</c> (default 30); 0 turns it off. Each failure takes a token
/// (taken when the verification starts, given back if the key checks out); with none left, a key this silo has not verified
/// recently is refused with a 429 before it is looked up, so made-up keys cost neither the key store nor a guess. Keys verified
/// recently (cached) and the bootstrap admin key still pass. The address is the client's as
/// <see cref="ClientAddress"/> sees it: behind proxies, set <c>Risk:TrustProxyHeaders</c>, or every client behind one proxy
/// shares its budget.
/// </summary>
public sealed class FailedAuthentications(FailedAuthentications.Settings settings, IConfiguration configuration, TimeProvider time)
{
    public sealed record Settings(int PerMinute, int Burst)
    {
        public static Settings From(IConfiguration configuration)
        {
            var perMinute = Math.Max(0, configuration.GetValue("RateLimits:FailedAuthenticationsPerMinute", 30));
            return new Settings(perMinute, Math.Max(1, configuration.GetValue("RateLimits:FailedAuthenticationBurst", 30)));
        }
    }

    private readonly TokenBuckets _buckets = new(time);
    private long _refused;

    /// <summary>Requests refused so far because their address had no failures left (a metric).</summary>
    public long Refused => Interlocked.Read(ref _refused);

    public static void Add(IServiceCollection services, IConfiguration configuration) =>
        services.AddSingleton(sp => new FailedAuthentications(Settings.From(configuration), configuration, sp.GetRequiredService<TimeProvider>()));

    /// <summary>
    /// Takes one of the request's address's tokens before its key is verified, so that any number of verifications at once is
    /// held to the budget too; false (with how long to wait) when none is left. <paramref name="address"/> is what to give the
    /// token back to (<see cref="GiveBack"/>) if the key checks out or the key store failed; a key that failed, or a request its
    /// client abandoned meanwhile, keeps it taken. Null when the limit is off.
    /// </summary>
    public bool TryBegin(HttpContext context, out string? address, out TimeSpan retryAfter)
    {
        address = null;
        retryAfter = TimeSpan.Zero;
        if (settings.PerMinute == 0)
        {
            return true;
        }
        address = AddressKey(ClientAddress.Of(context, configuration));
        if (_buckets.TryTake(address, settings.PerMinute / 60.0, settings.Burst, out retryAfter))
        {
            return true;
        }
        address = null;
        Interlocked.Increment(ref _refused);
        return false;
    }

    /// <summary>Gives back the token <see cref="TryBegin"/> took: the key was good, or could not be checked.</summary>
    public void GiveBack(string? address)
    {
        if (address is not null)
        {
            _buckets.GiveBack(address, settings.Burst);
        }
    }

    /// <summary>An IPv4 address as it is (IPv4-mapped IPv6 included); an IPv6 address by its /64.</summary>
    public static string AddressKey(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }
}
