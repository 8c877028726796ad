using Microsoft.Extensions.Options;
using Orleans.Trade.Wallets;

namespace Orleans.Trade.Silo;

/// <summary>Refuses to start with a settlement split or cycle no escrow release could follow (see <see cref="SettlementOptions.Problem"/>).</summary>
public sealed class SettlementOptionsValidation : IValidateOptions<SettlementOptions>
{
    public ValidateOptionsResult Validate(string? name, SettlementOptions options) =>
        options.Problem() is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
}
