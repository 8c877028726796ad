namespace Orleans.Trade.Common;

/// <summary>
/// A grain state with a deadline: the trade storage indexes <see cref="WakeAt"/> with the state it follows from, and the deadline
/// sweeper wakes the grain once that time has come. One indexed column replaces a reminder per grain.
/// </summary>
public interface IWakeAtState
{
    /// <summary>When the grain must next be woken; null when nothing is due.</summary>
    DateTimeOffset? WakeAt { get; }
}

/// <summary>A grain that the deadline sweeper wakes (its state implements <see cref="IWakeAtState"/>).</summary>
public interface IWakeableGrain : IGrainWithStringKey
{
    /// <summary>Does whatever is due and answers the state's ETag and the wake time it now asks for.</summary>
    Task<WakeAnswer> WakeUp();
}

[GenerateSerializer, Immutable]
public sealed record WakeAnswer([property: Id(0)] string? ETag, [property: Id(1)] DateTimeOffset? WakeAt);

/// <summary>The cluster's single deadline sweeper (key <see cref="Key"/>): scans the deadline index and wakes grains that are due.</summary>
public interface IDeadlineSweeperGrain : IGrainWithStringKey
{
    const string Key = "sweeper";

    /// <summary>Starts the sweep timer if it is not running (called by every silo at start-up and by the sweeper's reminder).</summary>
    Task Start();

    /// <summary>Sweeps once now; answers how many grains were woken.</summary>
    Task<int> SweepNow();
}

/// <summary>
/// A grain state that hands the trade storage rows to write in the same transaction as the state itself (a transactional outbox:
/// a projection row, notifications). Set by the grain just before a write and cleared after it; never part of the payload.
/// </summary>
public interface IOutboxState
{
    object? Outbox { get; }
}
