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
        var start = (from ?? end - Default).ToUniversalTime();
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
}
