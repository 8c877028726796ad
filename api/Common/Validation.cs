using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Orleans.Trade.Common;

namespace Orleans.Trade.Api.Common;

/// <summary>Collects field errors, each naming the field and the rule it breaks, and turns them into a 400 ProblemDetails.</summary>
public sealed partial class Validation
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool IsValid => _errors.Count == 0;

    /// <summary>The first field found wrong and its first rule (for an item of a batch, which answers one reason); null when valid.</summary>
    public (string Field, string Rule)? FirstError => _errors.Count == 0 ? null : _errors.Select(e => (e.Key, e.Value[0])).First();

    public Validation Add(string field, string rule)
    {
        if (!_errors.TryGetValue(field, out var list))
        {
            _errors[field] = list = [];
        }
        list.Add(rule);
        return this;
    }

    /// <summary>
    /// The member of <typeparamref name="TEnum"/> that <paramref name="value"/> names, in any case (answers write them in
    /// camelCase); null when absent. Numbers and comma lists, which <see cref="Enum.TryParse{TEnum}(string, bool, out TEnum)"/>
    /// would take, are refused.
    /// </summary>
    public TEnum? OneOf<TEnum>(string field, string? value) where TEnum : struct, Enum
    {
        if (value is null)
        {
            return null;
        }
        foreach (var name in Enum.GetNames<TEnum>())
        {
            if (string.Equals(name, value, StringComparison.OrdinalIgnoreCase))
            {
                return Enum.Parse<TEnum>(name);
            }
        }
        Add(field, $"{field} must be one of: {string.Join(", ", Enum.GetNames<TEnum>().Select(CamelCase))}.");
        return null;
    }

    /// <summary>An enum member's name as the JSON answers write it.</summary>
    public static string CamelCase(string name) => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(name);

    public T? Required<T>(string field, T? value) where T : struct
    {
        if (value is null)
        {
            Add(field, $"{field} is required.");
        }
        return value;
    }

    public string? RequiredText(string field, string? value, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            Add(field, $"{field} is required and must not be blank.");
            return null;
        }
        if (value.Length > maxLength)
        {
            Add(field, $"{field} must be at most {maxLength} characters.");
        }
        return value.Trim();
    }

    /// <summary>A text that may be left out: null when blank, trimmed otherwise, and at most <paramref name="maxLength"/> long.</summary>
    public string? OptionalText(string field, string? value, int maxLength) =>
        string.IsNullOrWhiteSpace(value) ? null : RequiredText(field, value, maxLength);

    public void Range(string field, long? value, long min, long max)
    {
        if (value is { } v && (v < min || v > max))
        {
            Add(field, $"{field} must be between {min} and {max}; got {v}.");
        }
    }

    public void Identifier(string field, string? value)
    {
        if (!Ids.IsValid(value))
        {
            Add(field, $"{field} must be 1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit.");
        }
    }

    public void Currency(string field, string? value)
    {
        if (value is null)
        {
            Add(field, $"{field} is required.");
        }
        else if (!Iso4217.IsKnown(value))
        {
            Add(field, $"{field} must be a supported ISO 4217 code in upper case (e.g. USD, EUR, JPY); got '{value}'.");
        }
    }

    public void Country(string field, string? value)
    {
        if (value is null)
        {
            Add(field, $"{field} is required.");
        }
        else if (!Iso3166.IsKnown(value))
        {
            Add(field, $"{field} must be an ISO 3166-1 alpha-2 code in upper case (e.g. DE, US, CN); got '{value}'.");
        }
    }

    public ValidationProblem Problem(string? detail = null) => TypedResults.ValidationProblem(
        _errors.ToDictionary(e => e.Key, e => e.Value.ToArray()),
        detail: detail ?? "The request is invalid; see errors for each field.",
        title: "Invalid request");
}

/// <summary>The shape of ids that callers choose (SKU, warehouse, seller, event ids).</summary>
public static partial class Ids
{
    // \A and \z, not ^ and $: '$' also matches before a final line break, so "sku-1\n" would pass.
    [GeneratedRegex(@"\A[A-Za-z0-9][A-Za-z0-9._-]{0,63}\z")]
    private static partial Regex Pattern();

    public static bool IsValid(string? id) => id is not null && Pattern().IsMatch(id);
}
