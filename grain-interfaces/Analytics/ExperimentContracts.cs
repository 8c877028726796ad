namespace Orleans.Trade.Analytics;

/// <summary>A variant of an experiment and the share of visitors it gets (percent; an experiment's weights add up to 100).</summary>
[GenerateSerializer, Immutable]
public sealed record ExperimentVariant(
    [property: Id(0)] string Name,
    [property: Id(1)] int Weight);

/// <summary>What counts as a visitor converting: placing an order, or placing one that is paid.</summary>
public enum ExperimentGoal { Placed, Paid }

/// <summary>
/// How a winner is called. <see cref="Sequential"/>: an always-valid test (a mixture sequential probability ratio test), so the
/// results may be read as often as wanted and a winner called the first time one shows; <see cref="FixedHorizon"/>: a z-test
/// valid only when read once, at the planned sample (reading it daily and stopping at the first significant one overstates the
/// confidence), in exchange for needing fewer visitors.
/// </summary>
public enum ExperimentMethod { Sequential, FixedHorizon }

/// <summary>
/// An A/B test of a page or a promotion (R-DAT-5): its variants (the first is the control), the goal a visitor converts by, the
/// seller whose orders count (a seller's promotion) or all, when it runs, and when a winner may be called: at least
/// <see cref="MinVisitorsPerVariant"/> exposed visitors in every variant and a difference from the control significant at
/// <see cref="Confidence"/>.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ExperimentTerms(
    [property: Id(0)] string Name,
    [property: Id(1)] IReadOnlyList<ExperimentVariant> Variants,
    [property: Id(2)] ExperimentGoal Goal,
    [property: Id(3)] string? SellerId,
    [property: Id(4)] DateTimeOffset StartsAt,
    [property: Id(5)] DateTimeOffset? EndsAt,
    [property: Id(6)] int MinVisitorsPerVariant,
    [property: Id(7)] double Confidence,
    [property: Id(8)] ExperimentMethod Method = ExperimentMethod.Sequential,
    [property: Id(9)] double MinDetectableEffect = 0.02)
{
    /// <summary>
    /// Whether <paramref name="other"/> assigns, counts and tests visitors alike (its variants, goal, seller, start, method and the
    /// effect the sequential test is tuned to are these): none of them may change once visitors were assigned.
    /// </summary>
    public bool SameDesign(ExperimentTerms other) =>
        Variants.SequenceEqual(other.Variants) && Goal == other.Goal && SellerId == other.SellerId && StartsAt == other.StartsAt
        && Method == other.Method && MinDetectableEffect.Equals(other.MinDetectableEffect);

    public bool Equivalent(ExperimentTerms other) => SameDesign(other) && Name == other.Name && EndsAt == other.EndsAt
        && MinVisitorsPerVariant == other.MinVisitorsPerVariant && Confidence.Equals(other.Confidence);
}

[GenerateSerializer, Immutable]
public sealed record Experiment(
    [property: Id(0)] string ExperimentId,
    [property: Id(1)] ExperimentTerms Terms,
    [property: Id(2)] long Version,
    [property: Id(3)] string CreatedBy,
    [property: Id(4)] DateTimeOffset CreatedAt,
    [property: Id(5)] DateTimeOffset UpdatedAt);

public enum ExperimentWriteStatus
{
    Created,
    Updated,
    Unchanged,
    /// <summary>It has started: its variants, weights, goal, seller, start, method and tuned effect no longer change (visitors were assigned by them).</summary>
    Started,
    /// <summary>
    /// The platform runs or has scheduled <see cref="IExperimentsGrain.MaxExperiments"/> experiments (not ended) already, or keeps
    /// <see cref="IExperimentsGrain.MaxStored"/> in all.
    /// </summary>
    TooMany,
    /// <summary>The experiment's seller runs or has scheduled <see cref="IExperimentsGrain.MaxExperimentsPerSeller"/> (not ended) already.</summary>
    TooManyForSeller,
}

[GenerateSerializer, Immutable]
public sealed record ExperimentWrite(
    [property: Id(0)] ExperimentWriteStatus Status,
    [property: Id(1)] Experiment? Experiment);

/// <summary>The platform's experiments (state name <c>experiments</c>). Key: <see cref="Key"/>.</summary>
/// <remarks>Version 1: Put, Get, List.</remarks>
[Orleans.CodeGeneration.Version(1)]
public interface IExperimentsGrain : IGrainWithStringKey
{
    const string Key = "platform";

    /// <summary>
    /// Experiments not yet ended the platform holds at most; ended ones stay readable and count no more. A seller's count on
    /// its own too (<see cref="MaxExperimentsPerSeller"/>), so no seller can take the others' room.
    /// </summary>
    const int MaxExperiments = 500;
    const int MaxExperimentsPerSeller = 20;

    /// <summary>Experiments kept in all, ended ones included (one state holds them: an operator archives the old ones).</summary>
    const int MaxStored = 10_000;

    /// <summary>
    /// How long before its start an experiment's design is already fixed: each silo assigns and records visitors from a copy of the
    /// experiments at most this old, so a change made later could meet visitors assigned by the old design after the start.
    /// </summary>
    static readonly TimeSpan DesignFixedBeforeStart = TimeSpan.FromSeconds(5);

    /// <summary>Creates or changes an experiment; once started only its name, end, minimum visitors and confidence change.</summary>
    Task<ExperimentWrite> Put(string experimentId, ExperimentTerms terms, string by);

    [ReadOnly, AlwaysInterleave]
    Task<Experiment?> Get(string experimentId);

    [ReadOnly]
    Task<IReadOnlyList<Experiment>> List();
}
