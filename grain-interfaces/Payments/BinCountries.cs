using System.Collections.Frozen;

namespace Orleans.Trade.Payments;

/// <summary>
/// Issuing country by BIN (first six digits), for risk features such as a BIN country that differs from the ship-to
/// country (R-PAY-5). The table holds the sandbox provider's documented test cards; a production deployment loads its
/// acquirer's BIN file into <c>Payments:BinCountries</c>.
/// </summary>
public static class BinCountries
{
    public static readonly FrozenDictionary<string, string> Sandbox = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["424242"] = "US", ["400000"] = "US", ["400002"] = "DE", ["400005"] = "GB", ["400012"] = "BR",
        ["400015"] = "CN", ["555555"] = "US", ["510510"] = "FR", ["222300"] = "US", ["378282"] = "US",
        ["601111"] = "US", ["353011"] = "JP", ["620000"] = "CN", ["400008"] = "NG", ["400017"] = "RU",
    }.ToFrozenDictionary(StringComparer.Ordinal);
}
