using Microsoft.AspNetCore.Http.HttpResults;
using Orleans.Trade.Api.Auth;
using Orleans.Trade.Api.Common;

namespace Orleans.Trade.Api.Analytics;

/// <summary>The time window a report over stored orders reads: by default the 30 days before <c>to</c> (now), at most 92 days.</summary>
public static class ReportWindow
{
    public static readonly TimeSpan Max = TimeSpan.FromDays(92);
    public static readonly TimeSpan Default = TimeSpan.FromDays(30);

    /// <summary>The window asked for, in UTC; what is wrong with it goes to <paramref name="v"/> (from not before to, longer than <see cref="Max"/>).</summary>
    public static (DateTimeOffset Start, DateTimeOffset End) Check(Validation v, DateTimeOffset? from, DateTimeOffset? to, DateTimeOffset now)
    {
        var end = (to ?? now).ToUniversalTime();
        // The default start never goes before the calendar's first instant (a `to` in the first days of year 1 was a 500).
        var start = (from ?? (end - DateTimeOffset.MinValue < Default ? DateTimeOffset.MinValue : end - Default)).ToUniversalTime();
        if (start >= end)
        {
            v.Add("from", "from must be before to.");
        }
        else if (end - start > Max)
        {
            v.Add("to", $"A window spans at most {Max.TotalDays:0} days.");
        }
        return (start, end);
    }

    /// <summary>
    /// A per-seller report's window, seller and page: the window as <see cref="Check"/> gives it and the seller to read, or the 400
    /// that says what is wrong (with what <paramref name="v"/> already holds); a seller's or ERP key asking for another seller is
    /// refused 403 (as one that may not <paramref name="doing"/> it), and reads its own when it names none.
    /// </summary>
    public static ((DateTimeOffset From, DateTimeOffset To)? Window, (string? Id, ProblemHttpResult? Forbidden) Seller, ValidationProblem? Problem) ForSeller(
        Validation v, DateTimeOffset? from, DateTimeOffset? to, string? sellerId, int page, int pageSize, int maxPageSize, Caller caller,
        DateTimeOffset now, string doing)
    {
        var (start, end) = Check(v, from, to, now);
        if (sellerId is not null)
        {
            v.Identifier("sellerId", sellerId);
        }
        v.Range("page", page, 1, 100_000);
        v.Range("pageSize", pageSize, 1, maxPageSize);
        if (!v.IsValid)
        {
            return (null, default, v.Problem());
        }
        var seller = sellerId ?? caller.ActingSellerId;
        return ((start, end), (seller, seller is null ? null : caller.RefusedFor(seller, doing)), null);
    }
}
