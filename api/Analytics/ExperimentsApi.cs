using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Orleans.Trade.Analytics;
using Orleans.Trade.Api.Auth;
using Orleans.Trade.Api.Common;
using Orleans.Trade.Common;

namespace Orleans.Trade.Api.Analytics;

/// <summary>Exposures of an experiment and the conversions of the exposed buyers (implemented by the silo over the database).</summary>
public interface IExperimentExposures
{
    /// <summary>Stores the buyers not exposed before, each with its variant and time, in one transaction; answers those stored now.</summary>
    Task<IReadOnlySet<string>> RecordAsync(string experimentId, IReadOnlyList<(string BuyerId, string Variant, DateTimeOffset At)> exposures,
        CancellationToken cancellationToken);

    /// <summary>
    /// Per variant, the buyers exposed and those with an order (of <paramref name="sellerId"/>, if given; not an import; paid, for that
    /// goal) created at or after their first exposure and before <paramref name="until"/>.
    /// </summary>
    Task<IReadOnlyList<VariantCounts>> CountAsync(string experimentId, ExperimentGoal goal, string? sellerId, DateTimeOffset until,
        CancellationToken cancellationToken);

    /// <summary>
    /// The same buyers and conversions as <see cref="CountAsync"/>, per variant as a time series for the sequential test's replay:
    /// the exposures by their first exposure's time, the conversions by the time of the buyer's first converting order, summed per
    /// <paramref name="bucket"/> (from the Unix epoch; each step is at its bucket's start), in time order.
    /// </summary>
    Task<IReadOnlyList<VariantHistory>> HistoryAsync(string experimentId, ExperimentGoal goal, string? sellerId, DateTimeOffset until, TimeSpan bucket,
        CancellationToken cancellationToken);
}

public sealed record ExperimentVariantRequest(
    [Required][property: Description("Letters, digits, '.', '_' or '-' (up to 40); the first variant is the control.")] string? Name,
    [Required][property: Description("The percent of visitors it gets (1 to 99); the variants' weights add up to 100.")] int? Weight);

public sealed record ExperimentRequest(
    [Required][property: Description("What is tested, as analysts read it (up to 200 characters).")] string? Name,
    [Required][property: Description("2 to 5 variants, the control first.")] IReadOnlyList<ExperimentVariantRequest?>? Variants,
    [property: Description("placed (default: the buyer places an order) or paid (an order that is paid).")] string? Goal,
    [property: Description("A seller's promotion: only that seller's orders convert (a seller's or ERP key: its own, the default). Left out by staff: every order.")] string? SellerId,
    [property: Description("When visitors start to be assigned (default: now, to the second, for a new experiment; its start for an existing one). Once started, variants, weights, goal, seller, start, method and minDetectableEffect no longer change.")] DateTimeOffset? StartsAt,
    [property: Description("When it ends: exposures after it are refused and orders after it do not convert. Left out: it runs until changed.")] DateTimeOffset? EndsAt,
    [property: Description("Visitors every variant needs before a winner is called (10 to 1,000,000; default 100).")] int? MinVisitorsPerVariant,
    [property: Description("The confidence a winner needs (0.8 to 0.999; default 0.95), shared among the variants compared with the control.")] double? Confidence,
    [property: Description("sequential (default: the results may be read any time, a winner is called when the data shows one) or fixedHorizon (a z-test valid when read once, at minVisitorsPerVariant; fewer visitors needed).")] string? Method,
    [property: Description("For the sequential test: the difference of conversion rates it is tuned to detect soonest (0.001 to 0.5; default 0.02, two percentage points). Any difference is detected in time; this one with the fewest visitors.")] double? MinDetectableEffect);

public sealed record ExperimentExposureRequest(
    [Required][property: Description("The signed-in buyer the experiment's variant was shown to, as orders name them.")] string? BuyerId,
    [Required][property: Description("When it was first shown, with its offset: within the experiment's run, at most 10 minutes ahead of the platform's clock.")] DateTimeOffset? At);

public sealed record ExperimentExposuresRequest(
    [Required][property: Description("1 to 1,000 exposures; each is answered on its own.")] IReadOnlyList<ExperimentExposureRequest?>? Exposures);

public sealed record ExperimentVariantView(string Name, int Weight);

public enum ExperimentStatus { NotStarted, Running, Ended }

public sealed record ExperimentView(string ExperimentId, string Name, IReadOnlyList<ExperimentVariantView> Variants, ExperimentGoal Goal, string? SellerId,
    DateTimeOffset StartsAt, DateTimeOffset? EndsAt, int MinVisitorsPerVariant, double Confidence, ExperimentMethod Method, double MinDetectableEffect,
    ExperimentStatus Status, long Version, string CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static ExperimentView Of(Experiment e, DateTimeOffset now) => new(e.ExperimentId, e.Terms.Name,
        e.Terms.Variants.Select(v => new ExperimentVariantView(v.Name, v.Weight)).ToArray(), e.Terms.Goal, e.Terms.SellerId, e.Terms.StartsAt,
        e.Terms.EndsAt, e.Terms.MinVisitorsPerVariant, e.Terms.Confidence, e.Terms.Method, e.Terms.MinDetectableEffect,
        ExperimentsApi.StatusAt(e.Terms, now), e.Version, e.CreatedBy, e.CreatedAt, e.UpdatedAt);
}

/// <param name="Active">Whether the experiment runs now: a storefront shows the control otherwise.</param>
public sealed record ExperimentAssignment(string ExperimentId, string Variant, bool Active);

public enum ExposureStatus
{
    /// <summary>Stored, with the variant the buyer is assigned.</summary>
    Recorded,
    /// <summary>The buyer was exposed before (or earlier in this batch): its first exposure counts.</summary>
    Duplicate,
    /// <summary>A member is missing or wrong (<c>field</c> names it), or it falls outside the experiment's run.</summary>
    Invalid,
}

public sealed record ExposureResult(int Index, string? BuyerId, ExposureStatus Status, string? Variant, string? Reason, string? Field);

public sealed record ExposuresResponse(string ExperimentId, int Recorded, int Duplicates, int Invalid, IReadOnlyList<ExposureResult> Items);

/// <param name="Until">Orders created before this count: the experiment's end, or now while it runs.</param>
/// <param name="Winner">The variant the data decides for; null until one is significantly better (or the control significantly better than all).</param>
public sealed record ExperimentResults(string ExperimentId, string Name, ExperimentGoal Goal, string? SellerId, ExperimentStatus Status, DateTimeOffset Until,
    double Confidence, int MinVisitorsPerVariant, ExperimentMethod Method, long Visitors, IReadOnlyList<VariantResult> Variants, ExperimentDecision Decision,
    string? Winner);

/// <summary>
/// A/B tests of pages and promotions (R-DAT-5): staff (or a seller, for its own promotions) define the variants and the goal; the
/// storefront asks which variant a visitor sees (a hash of the experiment and the visitor: stable, no state) and reports the buyers
/// it showed one to; the results count, per variant, the exposed buyers who then placed (or paid) an order, and call the winner
/// against the control once every variant has its minimum of visitors: by the sequential test replayed over the data's history
/// (the lowest p-value reached, so a winner called stays called), or by a z-test on the counts now.
/// </summary>
public static class ExperimentsApi
{
    public const int MaxExposures = 1_000;
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The sequential test looks once a minute of the data's history: a month's experiment is at most 43,200 steps per variant
    /// however many buyers it has, and fewer looks than every event keep the test valid.
    /// </summary>
    public static readonly TimeSpan HistoryBucket = TimeSpan.FromMinutes(1);

    public static IEndpointRouteBuilder MapExperimentsApiV1(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/experiments").WithTags("Analytics");
        api.MapPut("/{experimentId}", Put).RequireAuthorization(Policies.AlertReaders).ProducesProblems(403, 409, 422);
        api.MapGet("/{experimentId}", Get).RequireAuthorization(Policies.AlertReaders).ProducesProblems(403, 404);
        api.MapGet("", List).RequireAuthorization(Policies.AlertReaders).ProducesProblems(403);
        api.MapGet("/{experimentId}/assignment", Assign).RequireAuthorization(Policies.StorefrontFeeds).ProducesProblems(403, 404);
        api.MapPost("/{experimentId}/exposures", Expose).RequireAuthorization(Policies.StorefrontFeeds).ProducesProblems(403, 404);
        api.MapGet("/{experimentId}/results", Results).RequireAuthorization(Policies.AlertReaders).ProducesProblems(403, 404);
        return app;
    }

    public static ExperimentStatus StatusAt(ExperimentTerms terms, DateTimeOffset now) =>
        now < terms.StartsAt ? ExperimentStatus.NotStarted : terms.EndsAt <= now ? ExperimentStatus.Ended : ExperimentStatus.Running;

    private static IExperimentsGrain Registry(IGrainFactory grains) => grains.GetGrain<IExperimentsGrain>(IExperimentsGrain.Key);

    public static async Task<Results<Created<ExperimentView>, Ok<ExperimentView>, ValidationProblem, ProblemHttpResult>> Put(
        string experimentId, ExperimentRequest request, ClaimsPrincipal user, IGrainFactory grains, TradeClock clock)
    {
        var caller = Caller.From(user);
        var now = clock.GetUtcNow();
        var v = new Validation();
        v.Identifier("experimentId", experimentId);
        var name = v.RequiredText("name", request.Name, 200);
        var variants = new List<ExperimentVariant>();
        if (request.Variants is not { Count: >= 2 and <= 5 } given)
        {
            v.Add("variants", "variants must hold 2 to 5 variants, the control first.");
        }
        else
        {
            for (var i = 0; i < given.Count; i++)
            {
                if (given[i] is not { } variant || variant.Name is null || variant.Weight is null)
                {
                    v.Add($"variants[{i}]", "A variant needs a name and a weight.");
                    continue;
                }
                if (!Ids.IsValid(variant.Name) || variant.Name.Length > 40)
                {
                    v.Add($"variants[{i}].name", "A variant's name is 1 to 40 letters, digits, '.', '_' or '-'.");
                }
                v.Range($"variants[{i}].weight", variant.Weight, 1, 99);
                variants.Add(new ExperimentVariant(variant.Name, variant.Weight.Value));
            }
            if (variants.Select(x => x.Name).Distinct(StringComparer.Ordinal).Count() != variants.Count)
            {
                v.Add("variants", "Variants' names must differ.");
            }
            else if (variants.Count == given.Count && variants.All(x => x.Weight is >= 1 and <= 99) && variants.Sum(x => x.Weight) != 100)
            {
                // Only weights each in range are summed (a weight near int.MaxValue overflowed the sum: a 500).
                v.Add("variants", $"The variants' weights must add up to 100; they add up to {variants.Sum(x => x.Weight)}.");
            }
        }
        var goal = request.Goal is null ? ExperimentGoal.Placed : v.OneOf<ExperimentGoal>("goal", request.Goal);
        var sellerId = request.SellerId ?? caller.ActingSellerId;
        if (sellerId is not null)
        {
            v.Identifier("sellerId", sellerId);
        }
        // Left out: an existing experiment keeps its start (a retried PUT is the same experiment); a new one starts now, to the second
        // (storefronts send exposure times in whole seconds).
        var existing = Ids.IsValid(experimentId) ? await Registry(grains).Get(experimentId) : null;
        var startsAt = (request.StartsAt ?? existing?.Terms.StartsAt ?? now.AddTicks(-(now.Ticks % TimeSpan.TicksPerSecond))).ToUniversalTime();
        if (request.EndsAt is { } endsAt && endsAt <= startsAt)
        {
            v.Add("endsAt", "endsAt must be after startsAt.");
        }
        else if (existing is null && request.EndsAt is { } ended && ended <= now)
        {
            // Nobody could be exposed to it; and created ended, it would take no room, only space in the platform's list.
            v.Add("endsAt", "A new experiment must end in the future.");
        }
        v.Range("minVisitorsPerVariant", request.MinVisitorsPerVariant ?? 100, 10, 1_000_000);
        var confidence = request.Confidence ?? 0.95;
        if (confidence is < 0.8 or > 0.999)
        {
            v.Add("confidence", "confidence must be 0.8 to 0.999.");
        }
        var method = request.Method is null ? ExperimentMethod.Sequential : v.OneOf<ExperimentMethod>("method", request.Method);
        var effect = request.MinDetectableEffect ?? 0.02;
        if (effect is < 0.001 or > 0.5)
        {
            v.Add("minDetectableEffect", "minDetectableEffect must be 0.001 to 0.5 (a difference of conversion rates).");
        }
        if (!v.IsValid)
        {
            return v.Problem();
        }
        if (sellerId is not null && caller.RefusedFor(sellerId, "run experiments for") is { } forbidden)
        {
            return forbidden;
        }
        if (existing is not null && Refused(caller, existing) is { } notOwn)
        {
            return notOwn;
        }
        var terms = new ExperimentTerms(name!, variants, goal!.Value, sellerId, startsAt, request.EndsAt?.ToUniversalTime(),
            request.MinVisitorsPerVariant ?? 100, confidence, method!.Value, effect);
        var result = await Registry(grains).Put(experimentId, terms, caller.KeyId);
        return result.Status switch
        {
            ExperimentWriteStatus.Created => TypedResults.Created($"/api/v1/experiments/{experimentId}", ExperimentView.Of(result.Experiment!, now)),
            ExperimentWriteStatus.Updated or ExperimentWriteStatus.Unchanged => TypedResults.Ok(ExperimentView.Of(result.Experiment!, now)),
            ExperimentWriteStatus.Started => Problems.Conflict(
                $"Experiment '{experimentId}' starts or started at {result.Experiment!.Terms.StartsAt:O}: from {IExperimentsGrain.DesignFixedBeforeStart.TotalSeconds:0} seconds before then its variants, weights, goal, seller, start, method and minDetectableEffect no longer change (visitors are assigned by them on every silo). Start a new experiment instead."),
            ExperimentWriteStatus.TooManyForSeller => Problems.Unprocessable(
                $"Seller '{sellerId}' runs or has scheduled {IExperimentsGrain.MaxExperimentsPerSeller} experiments already: end one (set its endsAt) before starting or reopening another."),
            _ => Problems.Unprocessable(
                $"The platform runs or has scheduled {IExperimentsGrain.MaxExperiments} experiments already, or keeps {IExperimentsGrain.MaxStored} in all: end one (set its endsAt) before starting another."),
        };
    }

    /// <summary>A seller's or ERP key may read and change only its own seller's experiments.</summary>
    private static ProblemHttpResult? Refused(Caller caller, Experiment experiment) =>
        caller.ActingSellerId is { } acting && experiment.Terms.SellerId != acting
            ? Problems.Forbidden($"This key acts for seller '{acting}'; experiment '{experiment.ExperimentId}' is not that seller's.")
            : null;

    /// <summary>The experiment, or its 404; with <paramref name="caller"/> (staff and sellers), its 403 and a fresh read; without (the
    /// storefront's calls), this silo's copy of the experiments.</summary>
    private static async Task<(Experiment? Experiment, ProblemHttpResult? Problem)> FindAsync(string experimentId, IGrainFactory grains, Caller? caller,
        CachedExperiments? cache = null)
    {
        if (!Ids.IsValid(experimentId)
            || await (cache is null ? Registry(grains).Get(experimentId) : cache.GetAsync(experimentId, grains).AsTask()) is not { } experiment)
        {
            return (null, Problems.NotFound($"No experiment '{experimentId}'."));
        }
        return caller is not null && Refused(caller, experiment) is { } refused ? (null, refused) : (experiment, null);
    }

    public static async Task<Results<Ok<ExperimentView>, ProblemHttpResult>> Get(string experimentId, ClaimsPrincipal user, IGrainFactory grains, TradeClock clock)
    {
        var (experiment, problem) = await FindAsync(experimentId, grains, Caller.From(user));
        return problem ?? (Results<Ok<ExperimentView>, ProblemHttpResult>)TypedResults.Ok(ExperimentView.Of(experiment!, clock.GetUtcNow()));
    }

    public static async Task<Ok<IReadOnlyList<ExperimentView>>> List(ClaimsPrincipal user, IGrainFactory grains, TradeClock clock)
    {
        var acting = Caller.From(user).ActingSellerId;
        var now = clock.GetUtcNow();
        return TypedResults.Ok<IReadOnlyList<ExperimentView>>((await Registry(grains).List())
            .Where(e => acting is null || e.Terms.SellerId == acting).Select(e => ExperimentView.Of(e, now)).ToArray());
    }

    public static async Task<Results<Ok<ExperimentAssignment>, ValidationProblem, ProblemHttpResult>> Assign(
        string experimentId,
        [Description("The signed-in buyer (give this or sessionId).")] string? buyerId,
        [Description("An anonymous visitor's session: assigned alike, but only buyers' exposures are counted.")] string? sessionId,
        IGrainFactory grains, CachedExperiments cache, TradeClock clock)
    {
        var v = new Validation();
        if ((buyerId is null) == (sessionId is null))
        {
            v.Add("buyerId", "Give buyerId or sessionId (one of them).");
        }
        else if (!Ids.IsValid(buyerId ?? sessionId))
        {
            v.Add(buyerId is null ? "sessionId" : "buyerId", "An id is letters, digits, '.', '_' or '-'.");
        }
        if (!v.IsValid)
        {
            return v.Problem();
        }
        var (experiment, problem) = await FindAsync(experimentId, grains, null, cache);
        if (problem is not null)
        {
            return problem;
        }
        var visitor = buyerId ?? StorefrontVisitors.SessionPrefix + sessionId;
        var variant = ExperimentBuckets.Variant(experiment!.Terms.Variants, experimentId, visitor);
        return TypedResults.Ok(new ExperimentAssignment(experimentId, variant.Name, StatusAt(experiment.Terms, clock.GetUtcNow()) == ExperimentStatus.Running));
    }

    public static async Task<Results<Ok<ExposuresResponse>, ValidationProblem, ProblemHttpResult>> Expose(
        string experimentId, ExperimentExposuresRequest request, IGrainFactory grains, CachedExperiments cache, IExperimentExposures store,
        TradeClock clock, CancellationToken cancellationToken)
    {
        if (request.Exposures is not { Count: >= 1 and <= MaxExposures } exposures)
        {
            return new Validation().Add("exposures", $"exposures must hold 1 to {MaxExposures:N0} exposures.").Problem();
        }
        var (experiment, problem) = await FindAsync(experimentId, grains, null, cache);
        if (problem is not null)
        {
            return problem;
        }
        var terms = experiment!.Terms;
        var now = clock.GetUtcNow();
        var results = new ExposureResult?[exposures.Count];
        var rows = new List<(string BuyerId, string Variant, DateTimeOffset At)>();
        var first = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < exposures.Count; i++)
        {
            var e = exposures[i];
            string? field = null, reason = null;
            if (e?.BuyerId is null || !Ids.IsValid(e.BuyerId))
            {
                (field, reason) = ("buyerId", "buyerId is required: a buyer id as orders name them.");
            }
            else if (e.At is not { } at)
            {
                (field, reason) = ("at", "at is required: when the variant was first shown.");
            }
            else if (at > now + ClockSkew)
            {
                (field, reason) = ("at", $"at is more than {ClockSkew.TotalMinutes:0} minutes ahead of the platform's clock.");
            }
            else if (at < terms.StartsAt || terms.EndsAt <= at)
            {
                (field, reason) = ("at", "at is outside the experiment's run.");
            }
            if (reason is not null)
            {
                results[i] = new ExposureResult(i, e?.BuyerId, ExposureStatus.Invalid, null, reason, field);
                continue;
            }
            var variant = ExperimentBuckets.Variant(terms.Variants, experimentId, e!.BuyerId!).Name;
            if (!first.TryAdd(e.BuyerId!, i))
            {
                results[i] = new ExposureResult(i, e.BuyerId, ExposureStatus.Duplicate, variant, null, null);
                continue;
            }
            rows.Add((e.BuyerId!, variant, e.At!.Value.ToUniversalTime()));
        }
        var recorded = await store.RecordAsync(experimentId, rows, cancellationToken);
        foreach (var (buyerId, variant, _) in rows)
        {
            var i = first[buyerId];
            results[i] = new ExposureResult(i, buyerId, recorded.Contains(buyerId) ? ExposureStatus.Recorded : ExposureStatus.Duplicate, variant, null, null);
        }
        var items = results.Select(r => r!).ToArray();
        return TypedResults.Ok(new ExposuresResponse(experimentId, items.Count(r => r.Status == ExposureStatus.Recorded),
            items.Count(r => r.Status == ExposureStatus.Duplicate), items.Count(r => r.Status == ExposureStatus.Invalid), items));
    }

    public static async Task<Results<Ok<ExperimentResults>, ProblemHttpResult>> Results(
        string experimentId, ClaimsPrincipal user, IGrainFactory grains, IExperimentExposures store, TradeClock clock,
        SharedResultReads<(string, long), ExperimentResults> reads)
    {
        var (experiment, problem) = await FindAsync(experimentId, grains, Caller.From(user));
        if (problem is not null)
        {
            return problem;
        }
        // A read already in flight for these terms is joined (a polled dashboard would otherwise stack seconds-long reads).
        return TypedResults.Ok(await reads.ReadAsync((experimentId, experiment!.Version), () => ReadResultsAsync(experimentId, experiment.Terms, store, clock)));
    }

    private static async Task<ExperimentResults> ReadResultsAsync(string experimentId, ExperimentTerms terms, IExperimentExposures store, TradeClock clock)
    {
        // Not cancelled by the request that started it: other requests may be waiting for it.
        var cancellationToken = CancellationToken.None;
        var now = clock.GetUtcNow();
        var until = terms.EndsAt is { } end && end < now ? end : now;
        // While it runs, the minute in progress is counted but not looked at (a later read would look at it with more events): every
        // read looks at the same minutes, the ones that ended. Once ended, every minute has all it will get.
        var looksBefore = StatusAt(terms, now) == ExperimentStatus.Ended
            ? (DateTimeOffset?)null
            : DateTimeOffset.UnixEpoch.AddTicks((until - DateTimeOffset.UnixEpoch).Ticks / HistoryBucket.Ticks * HistoryBucket.Ticks);
        var (variants, decision, winner) = terms.Method == ExperimentMethod.Sequential
            ? ExperimentStatistics.DecideFromHistory(terms,
                await store.HistoryAsync(experimentId, terms.Goal, terms.SellerId, until, HistoryBucket, cancellationToken), looksBefore)
            : ExperimentStatistics.Decide(terms, await store.CountAsync(experimentId, terms.Goal, terms.SellerId, until, cancellationToken));
        return new ExperimentResults(experimentId, terms.Name, terms.Goal, terms.SellerId, StatusAt(terms, now), until, terms.Confidence,
            terms.MinVisitorsPerVariant, terms.Method, variants.Sum(x => x.Visitors), variants, decision, winner);
    }
}
