using System.Diagnostics;
using Npgsql;

namespace Orleans.Trade.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL the tests run against: TRADE_TEST_POSTGRES if set (tests/run.sh sets it and stops the server afterwards),
/// else the throw-away cluster in the temp folder, started (or reused) with deploy/dev-postgres.sh — the same script
/// developers and CI use. Every test class gets its own database.
/// </summary>
public static class PostgresServer
{
    private static readonly Lazy<string> Admin = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);
    private static string? _dataDir;

    public static string AdminConnectionString => Admin.Value;

    /// <summary>
    /// Creates a database; <paramref name="icuLocale"/> (e.g. <c>en-US</c>) makes its default collation that ICU locale's, as a
    /// production server's often is, instead of the test server's byte order.
    /// </summary>
    public static async Task<string> CreateDatabaseAsync(string prefix, string? icuLocale = null)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 60)].ToLowerInvariant();
        var options = icuLocale is null ? "" : $" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '{icuLocale}' LOCALE 'C.utf8'";
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"{options}", connection);
            await command.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
    }

    private static string Start()
    {
        var external = Environment.GetEnvironmentVariable("TRADE_TEST_POSTGRES");
        if (!string.IsNullOrWhiteSpace(external))
        {
            return external;
        }
        // Left running for the next run; `PGDEV_DIR=/tmp/orleans-trade-pg-tests deploy/dev-postgres.sh stop` ends it.
        // In the temp folder so that the postgres user can reach it wherever the clone lives.
        _dataDir = Path.Combine(Path.GetTempPath(), "orleans-trade-pg-tests");
        var output = RunScript("start");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1].Trim();
    }

    private static string RunScript(string verb)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(RepoPaths.Root, "deploy", "dev-postgres.sh"), verb])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["PGDEV_DIR"] = _dataDir;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dev-postgres.sh {verb} did not finish in 2 minutes.");
        }
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"dev-postgres.sh {verb} failed ({process.ExitCode}): {stderr.Result}");
        }
        return stdout.Result;
    }
}
