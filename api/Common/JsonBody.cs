using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Orleans.Trade.Api.Common;

/// <summary>
/// Binds a JSON request body the way minimal APIs do (the app's JSON options, 415 for another media type, a JSON error as a
/// 400 <see cref="BadHttpRequestException"/> around the <see cref="JsonException"/>, no body or <c>null</c> as a missing
/// parameter), but parses a body that has fully arrived in one buffer synchronously. The framework's binding reads every body
/// through the serializer's asynchronous pipe reader, about 5% of a hot checkout's CPU in the silo for a few hundred bytes
/// that are already in memory; a body still arriving, or spread over buffers, goes that way as before.
/// A parameter type opts in as <see cref="IBindableFromHttpContext{TSelf}"/> calling <see cref="ReadAsync{T}"/>, and as
/// <see cref="IEndpointParameterMetadataProvider"/> calling <see cref="Describe{T}"/>, which keeps the body in OpenAPI.
/// </summary>
public static class JsonBody
{
    public static async ValueTask<T?> ReadAsync<T>(HttpContext context) where T : class
    {
        var request = context.Request;
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false })
        {
            return null;
        }
        if (!request.HasJsonContentType())
        {
            throw new BadHttpRequestException(
                $"Expected a supported JSON media type but got \"{request.ContentType}\".", StatusCodes.Status415UnsupportedMediaType);
        }
        var typeInfo = TypeInfo<T>.For(context.RequestServices);
        var body = request.BodyReader;
        try
        {
            var read = await body.ReadAsync(context.RequestAborted);
            if (read.IsCompleted && read.Buffer.IsSingleSegment)
            {
                try
                {
                    return JsonSerializer.Deserialize(read.Buffer.FirstSpan, typeInfo);
                }
                finally
                {
                    body.AdvanceTo(read.Buffer.End);
                }
            }
            body.AdvanceTo(read.Buffer.Start);
            return await JsonSerializer.DeserializeAsync(body, typeInfo, context.RequestAborted);
        }
        catch (JsonException e)
        {
            throw new BadHttpRequestException($"Failed to read the request body as {typeof(T).Name} JSON.", StatusCodes.Status400BadRequest, e);
        }
        catch (IOException e) when (e is not BadHttpRequestException)
        {
            throw new BadHttpRequestException("The request body could not be read to its end.", StatusCodes.Status400BadRequest, e);
        }
    }

    /// <summary>Documents the body as the framework does for an inferred JSON body: required, <c>application/json</c>.</summary>
    public static void Describe<T>(EndpointBuilder builder) =>
        builder.Metadata.Add(new AcceptsMetadata(["application/json"], typeof(T), isOptional: false));

    /// <summary>The type's metadata in the app's JSON options (looked up once per options instance).</summary>
    private static class TypeInfo<T>
    {
        private static (JsonSerializerOptions Options, JsonTypeInfo<T> Info)? s_cached;

        public static JsonTypeInfo<T> For(IServiceProvider services)
        {
            var options = services.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
            if (s_cached is { } cached && ReferenceEquals(cached.Options, options))
            {
                return cached.Info;
            }
            var info = (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
            s_cached = (options, info);
            return info;
        }
    }
}
