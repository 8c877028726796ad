using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Orleans.Trade.Logistics;

/// <summary>What a carrier answered a booking: its tracking number, or why there is none (<see cref="Unavailable"/>: no answer at all).</summary>
public sealed record CarrierBookingAnswer(string? TrackingNumber, string? Failure, bool Unavailable = false)
{
    public static CarrierBookingAnswer Booked(string trackingNumber) => new(trackingNumber, null);
    public static CarrierBookingAnswer Failed(string failure) => new(null, failure);
    public static CarrierBookingAnswer Unreachable(string failure) => new(null, failure, Unavailable: true);
}

/// <summary>Books a parcel with a carrier (R-ROLE-3: carriers plug in through adapters).</summary>
public interface ICarrierAdapter
{
    CarrierAdapterKind Kind { get; }

    Task<CarrierBookingAnswer> BookAsync(LabelParcel parcel);
}

/// <summary>The adapter of each carrier, as configured under <c>Labels:Carriers</c>: the platform's own unless a carrier is named there.</summary>
public sealed class CarrierAdapters(PlatformCarrierAdapter platform, IOptions<LabelOptions> options, HttpClient http)
{
    private readonly Dictionary<string, ICarrierAdapter> _byCarrier = options.Value.Carriers
        .Where(c => c.Value.Adapter == CarrierAdapterKind.Http)
        .ToDictionary(c => c.Key, c => (ICarrierAdapter)new HttpCarrierAdapter(http, c.Key, c.Value), StringComparer.Ordinal);

    public ICarrierAdapter For(string carrierId) => _byCarrier.TryGetValue(carrierId, out var adapter) ? adapter : platform;
}

/// <summary>
/// The built-in adapter: it issues S10 tracking numbers itself, taking serials in blocks from the series' grain so that a label
/// costs no write of its own there; a block this silo does not use up is skipped, never handed out twice.
/// </summary>
public sealed class PlatformCarrierAdapter(IGrainFactory grains, IOptions<LabelOptions> options) : ICarrierAdapter
{
    /// <summary>Serials taken at once: one write of the series per this many labels.</summary>
    public const int BlockSize = 1_000;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _next;
    private long _end;

    public CarrierAdapterKind Kind => CarrierAdapterKind.Platform;

    public async Task<CarrierBookingAnswer> BookAsync(LabelParcel parcel)
    {
        var settings = options.Value;
        await _gate.WaitAsync();
        try
        {
            if (_next >= _end)
            {
                var block = await grains.GetGrain<ITrackingSerialGrain>($"{settings.TrackingPrefix}-{settings.TrackingCountry}").Reserve(BlockSize);
                if (block.Count == 0)
                {
                    return CarrierBookingAnswer.Failed(
                        $"The platform's tracking series {settings.TrackingPrefix}…{settings.TrackingCountry} is used up: set Labels:TrackingPrefix to a new one.");
                }
                (_next, _end) = (block.First, block.First + block.Count);
            }
            return CarrierBookingAnswer.Booked(S10TrackingNumbers.Format(settings.TrackingPrefix, _next++, settings.TrackingCountry));
        }
        finally
        {
            _gate.Release();
        }
    }
}

/// <summary>
/// A carrier's booking endpoint: the parcel is POSTed as JSON with the carrier's secret as bearer token and the order id as
/// Idempotency-Key (so a carrier that keys on it books a resent parcel once); a 2xx answer's <c>trackingNumber</c> is the booking.
/// </summary>
public sealed class HttpCarrierAdapter(HttpClient http, string carrierId, CarrierAdapterOptions settings) : ICarrierAdapter
{
    /// <summary>The longest tracking number taken from a carrier: what an order's shipment holds.</summary>
    public const int MaxTrackingNumberLength = 40;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public CarrierAdapterKind Kind => CarrierAdapterKind.Http;

    public async Task<CarrierBookingAnswer> BookAsync(LabelParcel parcel)
    {
        using var timeout = new CancellationTokenSource(settings.TimeoutMs);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, settings.Url)
            {
                Content = JsonContent.Create(new
                {
                    parcel.OrderId, parcel.SellerId, parcel.CarrierId, service = parcel.Service, shipTo = parcel.ShipTo, parcel.WeightGrams,
                    value = new { parcel.Value.AmountMinor, parcel.Value.Currency },
                }, options: Json),
            };
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", settings.Secret);
            request.Headers.TryAddWithoutValidation("Idempotency-Key", parcel.OrderId);
            using var response = await http.SendAsync(request, timeout.Token);
            var body = await response.Content.ReadAsStringAsync(timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                return CarrierBookingAnswer.Failed(
                    $"Carrier '{carrierId}' refused the booking (HTTP {(int)response.StatusCode}){(Said(body) is { } said ? ": " + said : "")}.");
            }
            var number = TrackingNumberOf(body);
            return IsUsable(number)
                ? CarrierBookingAnswer.Booked(number!)
                : CarrierBookingAnswer.Failed($"Carrier '{carrierId}' answered no usable trackingNumber (1 to {MaxTrackingNumberLength} letters, digits or '-').");
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return CarrierBookingAnswer.Unreachable($"Carrier '{carrierId}' did not answer the booking within {settings.TimeoutMs} ms.");
        }
        catch (HttpRequestException ex)
        {
            return CarrierBookingAnswer.Unreachable($"Carrier '{carrierId}' could not be reached ({ex.HttpRequestError}).");
        }
    }

    /// <summary>Letters, digits and '-': what prints as text and as Code 128 and cannot break a label's markup.</summary>
    public static bool IsUsable(string? number) =>
        number is { Length: > 0 and <= MaxTrackingNumberLength } && number.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

    private static string? TrackingNumberOf(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("trackingNumber", out var n)
                && n.ValueKind == JsonValueKind.String ? n.GetString()?.Trim() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The carrier's own words (a problem's detail or title, or a reason), short and on one line; null when it gave none.</summary>
    private static string? Said(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                return null;
            }
            foreach (var name in (string[])["detail", "reason", "title"])
            {
                if (doc.RootElement.TryGetProperty(name, out var said) && said.ValueKind == JsonValueKind.String && said.GetString() is { Length: > 0 } text)
                {
                    var line = new string(text.Select(c => char.IsControl(c) ? ' ' : c).ToArray()).Trim();
                    return line.Length <= 200 ? line : line[..200] + "…";
                }
            }
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
