namespace Orleans.Trade.Analytics;

/// <summary>
/// The orders placed in one minute (R-DAT-1), as one silo or the whole cluster counted them: orders and GMV (sellers' goods
/// totals, minor units) per seller currency. <see cref="Minute"/> is whole minutes since the Unix epoch of business time.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record SalesMinute(
    [property: Id(0)] long Minute,
    [property: Id(1)] IReadOnlyDictionary<string, long> OrdersByCurrency,
    [property: Id(2)] IReadOnlyDictionary<string, long> GmvMinorByCurrency);

/// <summary>
/// A silo's closed minutes, numbered per source so a flush retried after a lost answer is applied once
/// (<see cref="SourceId"/>: one per silo process).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record SalesFlush(
    [property: Id(0)] string SourceId,
    [property: Id(1)] long Sequence,
    [property: Id(2)] IReadOnlyList<SalesMinute> Minutes);

/// <summary>One interval of the cluster's sales; GMV also in US cents at the rates of when the monitor took the minute in.</summary>
[GenerateSerializer, Immutable]
public sealed record SalesTotals(
    [property: Id(0)] long Minute,
    [property: Id(1)] long Orders,
    [property: Id(2)] IReadOnlyDictionary<string, long> OrdersByCurrency,
    [property: Id(3)] IReadOnlyDictionary<string, long> GmvMinorByCurrency,
    [property: Id(4)] long GmvUsdMinor);

public enum SalesMetric { Orders, GmvUsd }

public enum SalesAlertKind { Drop, Spike }

/// <summary>
/// An anomaly the monitor raised: <see cref="Observed"/> in the last window against <see cref="Expected"/> (the baseline's mean
/// per window). Open until an evaluation finds the metric back within its bounds (<see cref="EndedAt"/>).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record SalesAlert(
    [property: Id(0)] string AlertId,
    [property: Id(1)] SalesMetric Metric,
    [property: Id(2)] SalesAlertKind Kind,
    [property: Id(3)] DateTimeOffset OpenedAt,
    [property: Id(4)] long Observed,
    [property: Id(5)] double Expected,
    [property: Id(6)] DateTimeOffset? EndedAt = null,
    [property: Id(7)] long? ObservedAtEnd = null)
{
    public bool IsOpen => EndedAt is null;
}

/// <summary>
/// The cluster's sales monitor (R-DAT-1). Key: <see cref="SalesMonitor.Key"/>. Silos flush their closed minute buckets to it
/// every few seconds; it keeps the last <see cref="SalesMonitor.RetentionHours"/> hours of minutes, evaluates the anomaly rules
/// on each flush and keeps the alerts.
/// </summary>
[Orleans.CodeGeneration.Version(1)]
public interface ISalesMonitorGrain : IGrainWithStringKey
{
    /// <summary>Takes a silo's closed minutes in (once per source and sequence); answers the open alerts.</summary>
    Task<IReadOnlyList<SalesAlert>> Record(SalesFlush flush);

    /// <summary>The minutes from <paramref name="fromMinute"/> (inclusive) to <paramref name="toMinute"/> (exclusive) that had orders.</summary>
    [ReadOnly, AlwaysInterleave]
    Task<IReadOnlyList<SalesTotals>> Minutes(long fromMinute, long toMinute);

    /// <summary>The alerts kept, newest first.</summary>
    [ReadOnly, AlwaysInterleave]
    Task<IReadOnlyList<SalesAlert>> Alerts();
}

public static class SalesMonitor
{
    public const string Key = "platform";
    public const int RetentionHours = 48;
    public const int MaxAlertsKept = 200;

    public static long MinuteOf(DateTimeOffset time) => time.ToUnixTimeSeconds() / 60;

    public static DateTimeOffset StartOf(long minute) => DateTimeOffset.FromUnixTimeSeconds(minute * 60);
}
