namespace Orleans.Trade.Logistics;

/// <summary>How one carrier's parcels are booked: configuration <c>Labels:Carriers:{carrierId}</c>.</summary>
public sealed class CarrierAdapterOptions
{
    /// <summary>platform (the default) or http.</summary>
    public CarrierAdapterKind Adapter { get; set; } = CarrierAdapterKind.Platform;

    /// <summary>The carrier's booking endpoint (http adapter): https, or plain http to loopback or with <see cref="AllowPlainHttp"/>.</summary>
    public Uri? Url { get; set; }

    /// <summary>Sent as the bearer token of each booking (http adapter); at least 16 characters, never stored or logged.</summary>
    public string? Secret { get; set; }

    /// <summary>How long a booking may take before it counts as failed (100 to 20,000: under the grain call's 30 s).</summary>
    public int TimeoutMs { get; set; } = 10_000;

    /// <summary>Whether <see cref="Url"/> may be plain http off this machine: only inside a network trusted with buyers' addresses.</summary>
    public bool AllowPlainHttp { get; set; }
}

/// <summary>Shipping labels and carrier adapters (R-LOG-4, R-ROLE-3): configuration section <c>Labels</c>.</summary>
public sealed class LabelOptions
{
    public const int MinSecretLength = 16;

    /// <summary>The S10 service indicator of the platform's own tracking numbers (two capital letters).</summary>
    public string TrackingPrefix { get; set; } = "LX";

    /// <summary>The S10 country of the platform's own tracking numbers (ISO 3166-1 alpha-2).</summary>
    public string TrackingCountry { get; set; } = "CN";

    /// <summary>Carriers booked other than by the platform, by carrier id; a carrier not named here is booked by the platform.</summary>
    public Dictionary<string, CarrierAdapterOptions> Carriers { get; set; } = new(StringComparer.Ordinal);

    /// <summary>What is wrong with the settings, naming the setting; null when they can be used.</summary>
    public string? Problem()
    {
        if (!S10TrackingNumbers.IsCode(TrackingPrefix))
        {
            return "Labels:TrackingPrefix must be two capital letters (an S10 service indicator, e.g. LX).";
        }
        if (!S10TrackingNumbers.IsCode(TrackingCountry))
        {
            return "Labels:TrackingCountry must be an ISO 3166-1 alpha-2 code in capitals (e.g. CN).";
        }
        foreach (var (carrierId, carrier) in Carriers)
        {
            var at = $"Labels:Carriers:{carrierId}";
            if (carrier.TimeoutMs is < 100 or > 20_000)
            {
                return $"{at}:TimeoutMs must be 100 to 20000.";
            }
            if (carrier.Adapter != CarrierAdapterKind.Http)
            {
                continue;
            }
            var urlProblem = carrier.Url switch
            {
                null => "is required for the http adapter",
                { IsAbsoluteUri: false } => "must be an absolute https URL",
                { Scheme: "https" } => null,
                { Scheme: "http" } url when url.IsLoopback || carrier.AllowPlainHttp => null,
                { Scheme: "http" } => "must use https: bookings carry buyers' names and addresses (plain http only to loopback, or with AllowPlainHttp=true)",
                var url => $"must be an https URL, not {url.Scheme}",
            };
            if (urlProblem is not null)
            {
                return $"{at}:Url {urlProblem}.";
            }
            if (carrier.Secret is not { Length: >= MinSecretLength })
            {
                return $"{at}:Secret must be at least {MinSecretLength} characters: the carrier trusts the bookings it signs.";
            }
        }
        return null;
    }
}
