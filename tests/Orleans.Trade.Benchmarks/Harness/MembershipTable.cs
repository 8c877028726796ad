using System.Diagnostics;
using Npgsql;

namespace Orleans.Trade.Benchmarks.Harness;

/// <summary>Orleans' membership rows in PostgreSQL, read to learn when the cluster declared a SIGKILLed silo dead.</summary>
public static class MembershipTable
{
    // Orleans' SiloStatus values as stored in OrleansMembershipTable.Status.
    private const int Active = 3;
    private const int Dead = 6;
    private const int PollIntervalMs = 100;

    /// <summary>The generation of the active silo on <paramref name="siloPort"/>, or null if there is none.</summary>
    public static async Task<int?> ActiveGenerationAsync(string connectionString, string clusterId, int siloPort)
    {
        await using var db = new NpgsqlConnection(connectionString);
        await db.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT Generation FROM OrleansMembershipTable WHERE DeploymentId = @cluster AND Port = @port AND Status = @active ORDER BY Generation DESC LIMIT 1", db);
        command.Parameters.AddWithValue("cluster", clusterId);
        command.Parameters.AddWithValue("port", siloPort);
        command.Parameters.AddWithValue("active", Active);
        return await command.ExecuteScalarAsync() is int generation ? generation : null;
    }

    /// <summary>
    /// Polls every 100 ms until the row of that silo generation says Dead; returns the <see cref="Stopwatch"/> timestamp it was
    /// first seen so, or null if <paramref name="giveUp"/> fired first.
    /// </summary>
    public static async Task<long?> WaitDeclaredDeadAsync(string connectionString, string clusterId, int siloPort, int generation, CancellationToken giveUp)
    {
        try
        {
            await using var db = new NpgsqlConnection(connectionString);
            await db.OpenAsync(giveUp);
            await using var command = new NpgsqlCommand(
                "SELECT Status FROM OrleansMembershipTable WHERE DeploymentId = @cluster AND Port = @port AND Generation = @generation", db);
            command.Parameters.AddWithValue("cluster", clusterId);
            command.Parameters.AddWithValue("port", siloPort);
            command.Parameters.AddWithValue("generation", generation);
            while (true)
            {
                if (await command.ExecuteScalarAsync(giveUp) is Dead)
                {
                    return Stopwatch.GetTimestamp();
                }
                await Task.Delay(PollIntervalMs, giveUp);
            }
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }
}
