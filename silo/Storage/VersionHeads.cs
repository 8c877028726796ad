using System.Data.Common;

namespace Orleans.Trade.Silo.Storage;

/// <summary>
/// A version per aggregate that every write moves on by one and checks (the money ledgers' <c>ledger_heads</c>, the coupon
/// ledgers' <c>coupon_ledgers</c>): Orleans keeps one activation per grain, but during a partition two silos can briefly each hold
/// one, and a write computed from memory that misses the other's must be refused. No head row is version 0.
/// </summary>
public static class VersionHeads
{
    /// <summary>
    /// PostgreSQL: the common table expressions <c>created</c>, <c>moved</c> and <c>head</c> (one row, the new version, when the head
    /// moved on from <c>@expected</c>; none otherwise), for the rest of the statement to write only <c>WHERE EXISTS (SELECT 1 FROM
    /// head)</c>. Binds <c>@expected</c> and the key as <paramref name="idParameter"/>.
    /// </summary>
    public static string PostgresHead(string table, string keyColumn, string idParameter) => $"""
        created AS (
            INSERT INTO {table} ({keyColumn}, version) SELECT {idParameter}, 1 WHERE @expected = 0
            ON CONFLICT ({keyColumn}) DO NOTHING
            RETURNING version
        ), moved AS (
            UPDATE {table} SET version = version + 1
            WHERE {keyColumn} = {idParameter} AND version = @expected AND @expected > 0
            RETURNING version
        ), head AS (
            SELECT version FROM created UNION ALL SELECT version FROM moved
        )
        """;

    /// <summary>
    /// SQLite, inside <paramref name="transaction"/> and before anything else of it (so it holds the write lock before it reads):
    /// moves the head on from <paramref name="expected"/>; false when another writer moved it.
    /// </summary>
    public static async Task<bool> MoveSqliteAsync(DbConnection connection, DbTransaction transaction, string table, string keyColumn, string id,
        long expected, CancellationToken cancellationToken)
    {
        var moved = await connection.Command($"UPDATE {table} SET version = version + 1 WHERE {keyColumn} = @id AND version = @expected", transaction)
            .With("id", id).With("expected", expected).ExecuteNonQueryAsync(cancellationToken);
        if (moved == 0 && expected == 0)
        {
            moved = await connection.Command($"INSERT INTO {table} ({keyColumn}, version) VALUES (@id, 1) ON CONFLICT ({keyColumn}) DO NOTHING", transaction)
                .With("id", id).ExecuteNonQueryAsync(cancellationToken);
        }
        return moved > 0;
    }
}
