using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace Orleans.Trade.Api.Auth;

/// <summary>
/// API keys look like <c>otk_{keyId}_{secret}</c>: the key id (a ULID) finds the stored record, the secret (256 random bits)
/// proves possession. Only the SHA-256 of the whole key is stored; a high-entropy secret needs no slow hash.
/// </summary>
public static class ApiKeyFormat
{
    private const string Prefix = "otk_";
    private const int SecretBytes = 32;
    public const int MaxLength = 128;

    public static (string KeyId, string Key) Generate()
    {
        var keyId = Ulid.NewUlid().ToString();
        var secret = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(SecretBytes));
        return (keyId, $"{Prefix}{keyId}_{secret}");
    }

    public static bool TryParseKeyId(string? key, [NotNullWhen(true)] out string? keyId)
    {
        keyId = null;
        if (key is null || key.Length > MaxLength || !key.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }
        var rest = key.AsSpan(Prefix.Length);
        var separator = rest.IndexOf('_');
        if (separator != 26 || !Ulid.TryParse(rest[..separator].ToString(), out _))
        {
            return false;
        }
        keyId = rest[..separator].ToString();
        return true;
    }

    /// <summary>
    /// The id of the stored record that revokes a bootstrap admin key: derived from that key, so revoking one leaves a later,
    /// different bootstrap key (an operator's way back in) working, and the revoked one stays refused if configured again.
    /// </summary>
    public static string BootstrapRevocationId(string bootstrapKey) => "bootstrap-" + Hash("bootstrap-revocation|" + bootstrapKey)[..16];

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    public static bool HashMatches(string key, string storedHash) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hash(key)), Encoding.ASCII.GetBytes(storedHash));
}
