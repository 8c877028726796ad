namespace Orleans.Trade.Common;

/// <summary>A stored grain state that holds a claim (see <see cref="IClaimingState"/>): its state name and grain id.</summary>
public sealed record ClaimHolder(string StateName, string GrainId);

/// <summary>Which stored state holds a claim; the trade storage answers it from the same rows its inserts check.</summary>
public interface IStateClaims
{
    Task<ClaimHolder?> HolderAsync(string claim, CancellationToken cancellationToken);
}
