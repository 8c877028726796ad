using Orleans.Trade.Risk;

namespace Orleans.Trade.Api.Risk;

public sealed record RiskReviewQuery(RiskReviewStatus? Status, int? MinScore, int? MaxScore, DateTimeOffset? OlderThan, int Page, int PageSize);

public sealed record RiskReviewPage(IReadOnlyList<RiskReviewView> Items, long Total);

/// <summary>The review queue, read from its projection table (the silo implements it over the database).</summary>
public interface IRiskReviewQueries
{
    Task<RiskReviewPage> ListAsync(RiskReviewQuery query, CancellationToken cancellationToken);

    /// <summary>Every decided review, oldest first: the analysts' labels for training.</summary>
    IAsyncEnumerable<RiskReviewView> DecidedAsync(CancellationToken cancellationToken);
}
