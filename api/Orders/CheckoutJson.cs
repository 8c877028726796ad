using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Orleans.Trade.Orders;
using Orleans.Trade.Payments;
using Orleans.Trade.Risk;

namespace Orleans.Trade.Api.Orders;

/// <summary>An enum as its camelCase name, as the API's JSON options write every enum.</summary>
public sealed class CamelCaseEnumConverter<TEnum>() : JsonStringEnumConverter<TEnum>(JsonNamingPolicy.CamelCase, allowIntegerValues: false)
    where TEnum : struct, Enum;

/// <summary>
/// Source-generated writing of <see cref="CheckoutResponse"/>, the body of every placed checkout's 201: the same JSON as the
/// API's options write (web defaults, camelCase enums; tests compare the two on full responses), through the generated
/// serialisation code called directly. Through the options, with their enum converter, the serializer walks the response by
/// its metadata instead, pushing a stack frame per nesting level (an order's lines and their allocations go seven deep) and
/// allocating the frames' arrays on every response.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, NumberHandling = JsonNumberHandling.Strict,
    Converters =
    [
        typeof(CamelCaseEnumConverter<OrderStatus>), typeof(CamelCaseEnumConverter<OrderSource>),
        typeof(CamelCaseEnumConverter<PaymentMethodType>), typeof(CamelCaseEnumConverter<PaymentStatus>),
        typeof(CamelCaseEnumConverter<RefundStatus>), typeof(CamelCaseEnumConverter<RiskDecision>),
        typeof(CamelCaseEnumConverter<DisputeStatus>),
    ])]
[JsonSerializable(typeof(CheckoutResponse))]
internal sealed partial class CheckoutResponseJson : JsonSerializerContext
{
    /// <summary>Writes <paramref name="response"/> as the API's options would.</summary>
    public static void Write(Utf8JsonWriter writer, CheckoutResponse response)
    {
        var write = Default.CheckoutResponse.SerializeHandler
            ?? throw new InvalidOperationException("The source generator emitted no serialisation code for CheckoutResponse.");
        write(writer, response);
    }
}

/// <summary>
/// A placed checkout's 201 (or an import's): <c>Location</c> and the checkout written by <see cref="CheckoutResponseJson"/>.
/// Documented in OpenAPI as <c>Created&lt;CheckoutResponse&gt;</c> is.
/// </summary>
public sealed class CheckoutCreated(string location, CheckoutResponse value)
    : IResult, IStatusCodeHttpResult, IValueHttpResult, IValueHttpResult<CheckoutResponse>, IContentTypeHttpResult, IEndpointMetadataProvider
{
    /// <summary>ASP.NET Core's JSON options escape text with the relaxed encoder (HTML-sensitive characters stay as they are).</summary>
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    public string Location { get; } = location;

    public CheckoutResponse Value { get; } = value;

    object? IValueHttpResult.Value => Value;

    public int StatusCode => StatusCodes.Status201Created;

    int? IStatusCodeHttpResult.StatusCode => StatusCode;

    public string ContentType => "application/json; charset=utf-8";

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCode;
        response.Headers.Location = Location;
        response.ContentType = ContentType;
        using (var writer = new Utf8JsonWriter(response.BodyWriter, WriterOptions))
        {
            CheckoutResponseJson.Write(writer, Value);
        }
        await response.BodyWriter.FlushAsync(httpContext.RequestAborted);
    }

    static void IEndpointMetadataProvider.PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status201Created, typeof(CheckoutResponse), ["application/json"]));
}
