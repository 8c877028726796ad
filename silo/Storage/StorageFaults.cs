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
}
