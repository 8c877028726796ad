using System.Data.Common;
using Orleans.Trade.Common;

namespace Orleans.Trade.Silo.Storage;

/// <summary>
/// A database error inside a grain leaves it as <see cref="TransientStorageException"/>: driver exceptions (Npgsql, SQLite) have
/// no Orleans codec, so one crossing to a caller on another silo would arrive as a codec failure and end as an HTTP 500 instead
/// of a 503 to retry. Nothing is acknowledged by a failed write, so retrying is safe.
/// </summary>
public sealed class StorageFailureCallFilter(ILogger<StorageFailureCallFilter> logger) : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
        }
        catch (DbException ex)
        {
            logger.LogWarning(ex, "{Method} on {Grain} failed on the database", context.ImplementationMethod.Name, context.TargetId);
            throw Translate(ex, context.TargetId.ToString());
        }
    }

    /// <summary>What the caller is told: which grain, which kind of failure, never connection details.</summary>
    public static TransientStorageException Translate(DbException ex, string grain) =>
        new($"{grain} could not reach its storage ({ex.GetType().Name}{(ex.SqlState is { } state ? " " + state : "")}); nothing was acknowledged, retry.");
}
