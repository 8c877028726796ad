using System.Text.Json;
using System.Text.Json.Serialization;
using Orleans.Trade.Benchmarks.Harness;

namespace Orleans.Trade.Benchmarks.Scenarios;

/// <summary>Settings and shared pieces of one harness run: the PostgreSQL server, the silo binary, the sizes.</summary>
public sealed class BenchContext(BenchmarkArgs args, BenchPostgres postgres, string siloDll, string logDir)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public BenchmarkArgs Args { get; } = args;
    public BenchPostgres Postgres { get; } = postgres;
    public string SiloDll { get; } = siloDll;
    public string LogDir { get; } = logDir;

    public int Units => Args.Int("units", 100_000);
    public int Buyers => Args.Int("buyers", 256);
    public int Skus => Args.Int("skus", 10_000);
    public int Updates => Args.Int("updates", 100_000);
    public TimeSpan Duration => TimeSpan.FromSeconds(Args.Int("duration", 60));
    public TimeSpan MaxDuration => TimeSpan.FromSeconds(Args.Int("max-duration", 120));
    /// <summary>
    /// The peer's Npgsql pool, how many of its checkouts hold a transaction at once; without <c>--peer-pool</c> the harness
    /// tries several for <c>--peer-sweep-seconds</c> (default 8) each and measures the peer with its fastest, so the product is
    /// compared with the conventional checkout at its best on this machine.
    /// </summary>
    public int? PeerPool => Args.Text("peer-pool", null) is null ? null : Args.Int("peer-pool", 64);
    public TimeSpan PeerSweepTime => TimeSpan.FromSeconds(Args.Int("peer-sweep-seconds", 8));
    public TimeSpan CeilingDuration => TimeSpan.FromSeconds(Args.Int("ceiling-duration", 15));
    /// <summary>
    /// The flash sales' warm-up before the measured sale: <c>--warmup N</c> checkouts if given, otherwise
    /// <c>--warmup-seconds</c> (default 30) of checkouts on a SKU of their own, so the silo is measured warm. .NET keeps
    /// recompiling hot code (tiered, profile-guided) for a minute or more under this load; a short warm-up measures the JIT.
    /// </summary>
    public int? WarmupCount => Args.Text("warmup", null) is null ? null : Args.Int("warmup", 500);
    public TimeSpan WarmupTime => TimeSpan.FromSeconds(Args.Int("warmup-seconds", 30));
    /// <summary>
    /// The paid sale's timed warm-up, <c>--paid-warmup-seconds</c> (default 90): its path is broad (payments, risk, the
    /// provider's HTTP calls and webhooks, escrow) and runs at a tenth of the unpaid rate, so after 30 s the JIT still took a
    /// sixth of its silo's samples in the measured window (ReadyToRun build), after 90 s under 1% (journal, "6 December").
    /// </summary>
    public TimeSpan PaidWarmupTime => TimeSpan.FromSeconds(Args.Int("paid-warmup-seconds", 90));
    /// <summary>Units of the warm-up SKU: the count, or more than a timed warm-up can sell.</summary>
    public int WarmupStock => WarmupCount ?? 10_000_000;
    public TimeSpan Warmup(bool paid) => paid ? PaidWarmupTime : WarmupTime;
    public string WarmupText(bool paid) => WarmupCount is { } count ? $"{count:N0} checkouts" : $"{Warmup(paid).TotalSeconds:F0} s of checkouts";
    /// <summary>The kill scenarios measure recovery, not a steady rate: a short warm-up (500 checkouts unless --warmup).</summary>
    public int KillWarmup => WarmupCount ?? 500;
    /// <summary>
    /// <c>--buyer-keys N</c> (unpaid flash sale only): check out with N buyer API keys in rotation, each for its own buyer,
    /// instead of the admin key, so each request goes through the buyer's request limit (counted across the cluster) and the
    /// key cache as a sale of many buyers does; 0 (the default) uses the admin key, which no limit applies to.
    /// </summary>
    public int BuyerKeys => Args.Int("buyer-keys", 0);
    /// <summary>Open model (fixed arrival rate, requests per second) instead of a fixed number of connections, when set.</summary>
    public double? Rate => Args.Text("rate", null) is { } text ? double.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : null;

    /// <summary>The flash-sale's database: the peer keeps its own tables there, so both run on the same PostgreSQL database.</summary>
    public string? FlashSaleDatabase { get; set; }

    /// <summary>--coupon CODE: the flash sale's checkouts name the seller's coupon of that code (10% off; at most 10,000 units).</summary>
    public string? Coupon => Args.Text("coupon", null);

    public static byte[] CheckoutBody(string buyerId, IEnumerable<(string SkuId, long Quantity)> items, string? cardToken = null, string? couponCode = null) =>
        JsonSerializer.SerializeToUtf8Bytes(new
        {
            buyerId,
            currency = "EUR",
            shipTo = new { name = "Anna Schmidt", line1 = "Invalidenstr. 1", city = "Berlin", postalCode = "10115", country = "DE", phone = "+49 30 1234567" },
            items = items.Select(i => new { skuId = i.SkuId, quantity = i.Quantity }).ToArray(),
            payment = cardToken is null ? null : new { method = "card", cardToken },
            couponCode,
        }, Json);

    public static string BuyerId(int connection) => $"buyer-{connection:D4}";
}
