using Orleans.Trade.Common;

namespace Orleans.Trade.Logistics;

[GenerateSerializer]
public sealed class SellerShippingState
{
    [Id(0)] public Dictionary<string, ShippingTemplate> Templates { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The seller's carrier rules (R-LOG-3), null until it sets them.</summary>
    [Id(1)] public SellerCarrierRules? CarrierRules { get; set; }
}

/// <summary>One seller's shipping templates (R-LOG-1), read by checkouts through each silo's <see cref="CachedShippingTemplates"/>.</summary>
public sealed class SellerShippingGrain(
    [PersistentState(stateName: "seller-shipping", storageName: StorageNames.Trade)] IPersistentState<SellerShippingState> state,
    TradeClock clock,
    CachedShippingTemplates cache) : Grain, ISellerShippingGrain
{
    /// <summary>
    /// The templates and carrier rules as stored, which the interleaving reads answer. A change is written as a new dictionary (or
    /// rules) and taken here once memory is again what storage holds: read while its write was in flight, a template whose write
    /// then failed was cached by every silo and priced checkouts for good.
    /// </summary>
    private Dictionary<string, ShippingTemplate> _templates = new(StringComparer.Ordinal);
    private SellerCarrierRules? _rules;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _templates = state.State.Templates;
        _rules = state.State.CarrierRules;
        return Task.CompletedTask;
    }

    public async Task<ShippingTemplateWrite> Put(string templateId, string name, string currency, IReadOnlyList<ShippingZone> zones)
    {
        var templates = state.State.Templates;
        templates.TryGetValue(templateId, out var existing);
        if (existing is null && templates.Count >= ShippingRules.MaxTemplatesPerSeller)
        {
            return new ShippingTemplateWrite(ShippingTemplateWriteStatus.TooMany, null);
        }
        if (existing is not null && existing.Currency != currency)
        {
            return new ShippingTemplateWrite(ShippingTemplateWriteStatus.CurrencyChanged, existing);
        }
        if (existing is not null && existing.Name == name && Same(existing.Zones, zones))
        {
            return new ShippingTemplateWrite(ShippingTemplateWriteStatus.Unchanged, existing);
        }
        var template = new ShippingTemplate(this.GetPrimaryKeyString(), templateId, name, currency, zones.ToArray(), (existing?.Version ?? 0) + 1,
            clock.GetUtcNow());
        state.State.Templates = new Dictionary<string, ShippingTemplate>(templates, StringComparer.Ordinal) { [templateId] = template };
        await state.WriteOrReloadAsync(this, () =>
        {
            _templates = state.State.Templates;
            cache.Invalidate(template.SellerId, templateId);
        });
        return new ShippingTemplateWrite(existing is null ? ShippingTemplateWriteStatus.Created : ShippingTemplateWriteStatus.Updated, template);
    }

    public async Task<SellerCarrierRules> PutCarrierRules(IReadOnlyList<CarrierRule> rules, CarrierPreference otherwise, string? currency)
    {
        var existing = state.State.CarrierRules;
        if (existing is not null && existing.Otherwise == otherwise && existing.Currency == currency && existing.Rules.Count == rules.Count
            && existing.Rules.Zip(rules).All(p => Same(p.First, p.Second)))
        {
            return existing;
        }
        var updated = new SellerCarrierRules(this.GetPrimaryKeyString(), rules.ToArray(), otherwise, currency, (existing?.Version ?? 0) + 1, clock.GetUtcNow());
        state.State.CarrierRules = updated;
        await state.WriteOrReloadAsync(this, () => _rules = state.State.CarrierRules);
        return updated;
    }

    public Task<SellerCarrierRules> GetCarrierRules() =>
        Task.FromResult(_rules ?? SellerCarrierRules.Default(this.GetPrimaryKeyString()));

    public Task<ShippingTemplate?> Get(string templateId) => Task.FromResult(_templates.GetValueOrDefault(templateId));

    public Task<IReadOnlyList<ShippingTemplate>> List() =>
        Task.FromResult<IReadOnlyList<ShippingTemplate>>(_templates.Values.OrderBy(t => t.TemplateId, StringComparer.Ordinal).ToArray());

    private static bool Same(CarrierRule a, CarrierRule b) =>
        a with { Countries = null, CarrierIds = null } == b with { Countries = null, CarrierIds = null }
        && (a.Countries ?? []).SequenceEqual(b.Countries ?? []) && a.Countries is null == b.Countries is null
        && (a.CarrierIds ?? []).SequenceEqual(b.CarrierIds ?? []) && a.CarrierIds is null == b.CarrierIds is null;

    private static bool Same(IReadOnlyList<ShippingZone> a, IReadOnlyList<ShippingZone> b) =>
        a.Count == b.Count && a.Zip(b).All(p => p.First.Countries.SequenceEqual(p.Second.Countries) && p.First.Tiers.SequenceEqual(p.Second.Tiers)
            && p.First.FreeFromMinor == p.Second.FreeFromMinor && p.First.FreeFrom == p.Second.FreeFrom && p.First.FreeUntil == p.Second.FreeUntil);
}
