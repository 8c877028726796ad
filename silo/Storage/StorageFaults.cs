using System.Data.Common;
using Npgsql;

namespace Orleans.Trade.Silo.Storage;

/// <summary>How a batched write tells a fault of one row from one of the whole database.</summary>
public static class StorageFaults
{
    /// <summary>
    /// An error a single row's values can cause: PostgreSQL's integrity (23) and data (22) classes and a trigger's RAISE (P0001);
    /// SQLite's constraint failure (a trigger's RAISE(ABORT) too). Not connection, lock, cancellation, permission or read-only
    /// faults, which hit every row alike: a batch that failed on one of those is not split, as each part would fail or wait in turn.
    /// </summary>
    public static bool IsRowFault(DbException ex) => ex switch
    {
        PostgresException pg => pg.SqlState.StartsWith("23", StringComparison.Ordinal) || pg.SqlState.StartsWith("22", StringComparison.Ordinal)
            || pg.SqlState == PostgresErrorCodes.RaiseException,
        Microsoft.Data.Sqlite.SqliteException lite => lite.SqliteErrorCode == 19, // SQLITE_CONSTRAINT
        _ => false,
    };

    /// <summary>
    /// Writes a batch in one go; if the database refuses it for one row's sake (<see cref="IsRowFault"/>) and it holds more than
    /// one key, writes each key's writes apart instead, so only the key at fault fails (<paramref name="failed"/> makes its
    /// results) and the others are stored and answered so. <paramref name="onSplit"/> and <paramref name="onOwnFailure"/> let the
    /// store count and log.
    /// </summary>
    public static async Task<IReadOnlyList<TResult>> WriteApartOnRowFaultAsync<TWrite, TKey, TResult>(
        IReadOnlyList<TWrite> writes,
        Func<TWrite, TKey> keyOf,
        Func<IReadOnlyList<TWrite>, Task<IReadOnlyList<TResult>>> writeTogether,
        Func<Exception, TResult> failed,
        Action<DbException> onSplit,
        Action<TKey, Exception> onOwnFailure)
        where TKey : notnull
    {
        try
        {
            return await writeTogether(writes);
        }
        catch (DbException ex) when (IsRowFault(ex) && writes.Select(keyOf).Distinct().Skip(1).Any())
        {
            onSplit(ex);
            var results = new TResult[writes.Count];
            foreach (var key in writes.Select((w, i) => (w, i)).GroupBy(x => keyOf(x.w)))
            {
                var group = key.ToArray();
                try
                {
                    var alone = await writeTogether(group.Select(x => x.w).ToArray());
                    for (var k = 0; k < group.Length; k++)
                    {
                        results[group[k].i] = alone[k];
                    }
                }
                catch (Exception own)
                {
                    onOwnFailure(key.Key, own);
                    // Whatever fails now fails this key alone: the keys written before it are stored and must be answered so.
                    foreach (var (_, i) in group)
                    {
                        results[i] = failed(own);
                    }
                }
            }
            return results;
        }
    }
}
