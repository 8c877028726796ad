using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Reflection;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Orleans.Trade.Api.Common;

/// <summary>
/// Makes the OpenAPI document say which members of a request body a caller must send. Request records take every member as
/// nullable so that <see cref="Validation"/> can answer a 400 naming the missing field, and the schema System.Text.Json
/// describes for such a record lists every constructor parameter as required and every member as nullable. Here a request
/// type (a type of this assembly named <c>…Request</c>) lists as required exactly the members marked
/// <see cref="RequiredAttribute"/>, which are then not nullable either; the rest are optional. A
/// <see cref="DescriptionAttribute"/> on a positional record's parameter describes its member. The validation stays the
/// contract; a test holds the two together.
/// </summary>
public static class RequestSchemas
{
    // ASP.NET Core's schema service marks a nullable member of an object type with this, and later writes it as
    // "oneOf: [null, $ref]".
    private const string NullablePropertyKey = "x-is-nullable-property";

    public static Task Transform(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        var type = context.JsonTypeInfo;
        if (type.Type == typeof(string) && schema.Type is null)
        {
            // The schema exporter describes a type read by a converter of ours (StoredTextConverter) as any JSON value;
            // a text is a JSON string, null only where its member is declared nullable.
            schema.Type = context.JsonPropertyInfo is { IsGetNullable: true } ? JsonSchemaType.String | JsonSchemaType.Null : JsonSchemaType.String;
        }
        if (type.Kind == JsonTypeInfoKind.Enumerable && type.ElementType == typeof(string) && schema.Items is null)
        {
            schema.Items = new OpenApiSchema { Type = JsonSchemaType.String };
        }
        if (type.Kind == JsonTypeInfoKind.Dictionary && type.ElementType == typeof(string[]) && schema.AdditionalProperties is OpenApiSchema { Items: null } values)
        {
            values.Items = new OpenApiSchema { Type = JsonSchemaType.String };
        }
        if (type.Kind == JsonTypeInfoKind.Object && IsRequestType(type.Type))
        {
            var required = type.Properties.Where(IsRequired).Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
            schema.Required = required.Count == 0 ? null : required;
        }
        if (context.JsonPropertyInfo is { } property && IsRequestType(property.DeclaringType))
        {
            if (IsRequired(property))
            {
                if (schema.Type is { } flags && flags.HasFlag(JsonSchemaType.Null))
                {
                    schema.Type = flags & ~JsonSchemaType.Null;
                }
                schema.Metadata?.Remove(NullablePropertyKey);
            }
            // An object-typed member's schema is its type's, shared by every use; only an inline one takes the member's words.
            if (type.Kind != JsonTypeInfoKind.Object && schema.Description is null
                && property.AssociatedParameter?.AttributeProvider?.GetCustomAttributes(typeof(DescriptionAttribute), false) is [DescriptionAttribute d, ..])
            {
                schema.Description = d.Description;
            }
        }
        return Task.CompletedTask;
    }

    /// <summary>A request body's type: a type of this assembly whose name ends in <c>Request</c>.</summary>
    public static bool IsRequestType(Type type) =>
        type.Assembly == typeof(RequestSchemas).Assembly && type.Name.EndsWith("Request", StringComparison.Ordinal);

    /// <summary>Whether every caller must send <paramref name="property"/>: <see cref="RequiredAttribute"/> on the member or on
    /// the positional record's parameter behind it.</summary>
    public static bool IsRequired(JsonPropertyInfo property) =>
        Marked(property.AttributeProvider) || Marked(property.AssociatedParameter?.AttributeProvider);

    private static bool Marked(ICustomAttributeProvider? provider) =>
        provider?.IsDefined(typeof(RequiredAttribute), inherit: false) == true;
}
