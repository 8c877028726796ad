using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Orleans.Trade.Common;

/// <summary>A grain whose wake time has come, as the deadline index holds it.</summary>
public sealed record DueGrain(string StateName, string GrainId, string ETag, DateTimeOffset WakeAt);

public static class DeadlineSweep
{
    /// <summary>
    /// Whether a grain answered the wake time its index row holds: compared to the millisecond, the precision both databases keep
    /// (PostgreSQL to the microsecond, SQLite to the millisecond), while a grain answers its clock's full precision. Compared
    /// exactly, a grain answering the due time it was woken for never counted as stuck, and a backlog of them filled every sweep.
    /// </summary>
    public static bool SameWake(DateTimeOffset? answered, DateTimeOffset indexed) =>
        answered is { } at && Millisecond(at) == Millisecond(indexed);

    private static long Millisecond(DateTimeOffset at) => at.UtcTicks / TimeSpan.TicksPerMillisecond;
}

/// <summary>The deadline index kept by the trade storage beside each grain's state.</summary>
public interface IDeadlineIndex
{
    /// <summary>The grains due at <paramref name="now"/>, earliest first, at most <paramref name="max"/>.</summary>
    Task<IReadOnlyList<DueGrain>> DueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken);

    /// <summary>Moves the wake times grains answered, where the row is still at the answered version.</summary>
    Task ReindexAsync(IReadOnlyList<(DueGrain Grain, WakeAnswer Answer)> changes, CancellationToken cancellationToken);
}

public sealed class DeadlineSweepOptions
{
    /// <summary>How often the index is scanned; also the longest a due deadline waits.</summary>
    public TimeSpan Period { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Upper bound on grains woken per sweep (the rest wait for the next one, earliest first).</summary>
    public int MaxPerSweep { get; set; } = 5000;

    /// <summary>Wake calls in flight at once.</summary>
    public int MaxConcurrentWakes { get; set; } = 64;

    /// <summary>
    /// A grain whose wake failed (or that stayed due) is asked again after this, behind the others: left at the front, enough of
    /// them (state that no longer loads, a bug in one grain type) would fill every sweep and no later deadline would be woken.
    /// </summary>
    public TimeSpan FailedWakeRetry { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>
/// The cluster's one deadline sweeper: every <see cref="DeadlineSweepOptions.Period"/> it wakes the grains whose indexed wake time
/// has come and writes back the next wake time each answers. A reminder revives it if its silo dies; every silo starts it too.
/// One index scan replaces a durable reminder per order (Orleans keeps every reminder of its range in memory).
/// </summary>
public sealed class DeadlineSweeperGrain(
    IDeadlineIndex index,
    TradeClock clock,
    IOptions<DeadlineSweepOptions> options,
    ILogger<DeadlineSweeperGrain> logger) : Grain, IDeadlineSweeperGrain, IRemindable
{
    private const string BackstopReminder = "sweeper";
    private readonly DeadlineSweepOptions _options = options.Value;
    private IGrainTimer? _timer;

    public async Task Start()
    {
        _timer ??= this.RegisterGrainTimer(static (grain, _) => grain.SweepUntilCaughtUp(), this,
            new GrainTimerCreationOptions { DueTime = TimeSpan.Zero, Period = _options.Period, Interleave = false, KeepAlive = true });
        if (await this.GetReminder(BackstopReminder) is null)
        {
            var backstop = TimeSpan.FromMinutes(1);
            await this.RegisterOrUpdateReminder(BackstopReminder, backstop, backstop);
        }
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => Start();

    /// <summary>
    /// Sweeps again at once while a sweep was full (more were due than it may wake), for up to one period: a backlog (a burst of
    /// deadlines, a sweeper that was down) drains in a few sweeps instead of <see cref="DeadlineSweepOptions.MaxPerSweep"/> a period.
    /// </summary>
    private async Task SweepUntilCaughtUp()
    {
        var until = clock.GetUtcNow() + _options.Period;
        // Only while the sweeps make progress: grains that cannot answer (a silo going down, storage failing) stay due, and
        // are asked again next period rather than in a tight loop.
        while (await Sweep() is var (due, moved) && due >= _options.MaxPerSweep && moved * 2 >= due && clock.GetUtcNow() < until)
        {
        }
    }

    /// <summary>Never overlaps itself: the grain is not reentrant and its timer does not interleave.</summary>
    public async Task<int> SweepNow() => (await Sweep()).Due;

    /// <returns>How many grains were due (at most <see cref="DeadlineSweepOptions.MaxPerSweep"/>) and how many of them moved on.</returns>
    private async Task<(int Due, int Moved)> Sweep()
    {
        try
        {
            var due = await index.DueAsync(clock.GetUtcNow(), _options.MaxPerSweep, CancellationToken.None);
            // On the grain's own scheduler (grain calls need it), at most MaxConcurrentWakes at a time.
            using var gate = new SemaphoreSlim(_options.MaxConcurrentWakes);
            var answers = await Task.WhenAll(due.Select(async grain =>
            {
                await gate.WaitAsync();
                try
                {
                    return (Grain: grain, Answer: await WakeAsync(grain));
                }
                finally
                {
                    gate.Release();
                }
            }));
            var now = clock.GetUtcNow();
            var moved = answers.Where(a => a.Answer is { } answer && !DeadlineSweep.SameWake(answer.WakeAt, a.Grain.WakeAt)).Select(a => (a.Grain, a.Answer!)).ToArray();
            // Failed, or answered the due time it was woken for: asked again later, if its row is still at the version read.
            var retry = now + (_options.FailedWakeRetry > _options.Period ? _options.FailedWakeRetry : _options.Period);
            var stuck = answers.Where(a => a.Answer is null || DeadlineSweep.SameWake(a.Answer.WakeAt, a.Grain.WakeAt))
                .Select(a => (a.Grain, new WakeAnswer(a.Grain.ETag, retry))).ToArray();
            await index.ReindexAsync([.. moved, .. stuck], CancellationToken.None);
            return (due.Count, moved.Length);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "A deadline sweep failed; the next one retries");
            return (0, 0);
        }
    }

    private async Task<WakeAnswer?> WakeAsync(DueGrain due)
    {
        try
        {
            return await GrainFactory.GetGrain<IWakeableGrain>(GrainId.Parse(due.GrainId)).WakeUp();
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Waking {GrainId} failed; the next sweep retries", due.GrainId);
            return null;
        }
    }
}
