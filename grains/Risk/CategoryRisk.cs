using System.Collections.Frozen;

namespace Orleans.Trade.Risk;

/// <summary>
/// How attractive a SKU category is to fraudsters, from 0 (rarely targeted) to 1 (resold easily: gift cards, phones).
/// A feature of every payment; unknown categories get <see cref="UnknownCategoryRisk"/>.
/// </summary>
public sealed class CategoryRisk
{
    public const float UnknownCategoryRisk = 0.5f;

    /// <summary>The built-in table; <c>Risk:CategoryRisk:&lt;category&gt;</c> overrides or adds entries.</summary>
    public static readonly IReadOnlyDictionary<string, float> Defaults = new Dictionary<string, float>(StringComparer.Ordinal)
    {
        ["gift_cards"] = 1.0f,
        ["phones"] = 0.9f,
        ["electronics"] = 0.8f,
        ["luxury"] = 0.8f,
        ["gaming"] = 0.7f,
        ["sports"] = 0.4f,
        ["fashion"] = 0.3f,
        ["beauty"] = 0.3f,
        ["toys"] = 0.3f,
        ["home"] = 0.2f,
        ["books"] = 0.1f,
        ["groceries"] = 0.1f,
    };

    public static CategoryRisk Default { get; } = new(Defaults);

    private readonly FrozenDictionary<string, float> _risk;

    public CategoryRisk(IReadOnlyDictionary<string, float> risk)
    {
        foreach (var (category, value) in risk)
        {
            if (!(value >= 0 && value <= 1))
            {
                throw new ArgumentOutOfRangeException(nameof(risk), $"Category risk of '{category}' must be between 0 and 1, not {value}.");
            }
        }
        _risk = risk.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>The defaults overlaid with <paramref name="overrides"/>.</summary>
    public static CategoryRisk WithOverrides(IReadOnlyDictionary<string, float>? overrides)
    {
        var merged = new Dictionary<string, float>(Defaults, StringComparer.Ordinal);
        foreach (var (category, value) in overrides ?? new Dictionary<string, float>())
        {
            merged[category] = value;
        }
        return new CategoryRisk(merged);
    }

    public float Of(string category) => _risk.TryGetValue(category, out var value) ? value : UnknownCategoryRisk;
}
