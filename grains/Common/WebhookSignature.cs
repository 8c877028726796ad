using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Orleans.Trade.Common;

/// <summary>
/// A webhook signature: a header <c>&lt;name&gt;: t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256 of "t.body"&gt;</c> (several v1
/// values while a secret is rotated). The timestamp is signed with the body so that an old delivery cannot be replayed later.
/// Used by the sandbox PSP's webhooks to us and by our order notifications to sellers' and buyers' services.
/// </summary>
public static class WebhookSignature
{
    public static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    public static string Sign(string secret, long unixSeconds, ReadOnlySpan<byte> body) =>
        $"t={unixSeconds.ToString(CultureInfo.InvariantCulture)},v1={Convert.ToHexStringLower(Mac(secret, unixSeconds, body))}";

    /// <summary>Null when <paramref name="header"/> (the value of header <paramref name="headerName"/>) is genuine for <paramref name="body"/> and recent; otherwise why it is not.</summary>
    public static string? Verify(string headerName, string secret, string? header, ReadOnlySpan<byte> body, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(header) || header.Length > 1024)
        {
            return $"The {headerName} header is missing.";
        }
        long? timestamp = null;
        var candidates = new List<byte[]>();
        foreach (var part in header.Split(','))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0)
            {
                return $"The {headerName} header is malformed.";
            }
            var (name, value) = (part[..eq].Trim(), part[(eq + 1)..].Trim());
            if (name == "t" && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var t))
            {
                timestamp = t;
            }
            else if (name == "v1" && value.Length == 64 && TryHex(value, out var mac))
            {
                candidates.Add(mac);
            }
        }
        if (timestamp is not { } seconds || candidates.Count == 0)
        {
            return $"The {headerName} header needs a timestamp t and a v1 signature.";
        }
        if (seconds > now.ToUnixTimeSeconds() + (long)Tolerance.TotalSeconds || seconds < now.ToUnixTimeSeconds() - (long)Tolerance.TotalSeconds)
        {
            return "The webhook timestamp is more than 5 minutes away from now.";
        }
        var expected = Mac(secret, seconds, body);
        var match = false;
        foreach (var candidate in candidates)
        {
            match |= CryptographicOperations.FixedTimeEquals(expected, candidate);
        }
        return match ? null : "The webhook signature does not match.";
    }

    private static byte[] Mac(string secret, long unixSeconds, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.ASCII.GetBytes(unixSeconds.ToString(CultureInfo.InvariantCulture) + ".");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        return HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed);
    }

    private static bool TryHex(string hex, out byte[] bytes)
    {
        try
        {
            bytes = Convert.FromHexString(hex);
            return true;
        }
        catch (FormatException)
        {
            bytes = [];
            return false;
        }
    }
}
