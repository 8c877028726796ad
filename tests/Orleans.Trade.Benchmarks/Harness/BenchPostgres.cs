using System.Diagnostics;
using Npgsql;

namespace Orleans.Trade.Benchmarks.Harness;

/// <summary>
/// A throw-away PostgreSQL 15 started with deploy/dev-postgres.sh (fsync and synchronous commit on, as in production) in a
/// folder under /tmp; every scenario gets a database of its own. Destroyed at the end unless --keep-postgres is given. One run
/// at a time per folder: a second run would stop or destroy the first one's server under it, so it holds a lock file beside
/// the folder for as long as it runs (the kernel drops it when the process ends, however it ends).
/// </summary>
public sealed class BenchPostgres : IAsyncDisposable
{
    private readonly string _dataDir;
    private readonly bool _keep;
    private readonly FileStream _lock;

    private BenchPostgres(string dataDir, string adminConnectionString, bool keep, FileStream runLock)
    {
        _dataDir = dataDir;
        AdminConnectionString = adminConnectionString;
        _keep = keep;
        _lock = runLock;
    }

    public string AdminConnectionString { get; }

    public string ServerVersion { get; private set; } = "?";

    /// <summary>The server's max_connections: silos sharing it must fit their pools under it.</summary>
    public int MaxConnections { get; private set; }

    public static async Task<BenchPostgres> StartAsync(string dataDir, bool keep)
    {
        var runLock = TakeRunLock(dataDir);
        Console.Error.WriteLine($"bench: starting PostgreSQL in {dataDir}");
        string connection;
        try
        {
            var output = await RunScriptAsync(dataDir, "start");
            connection = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1].Trim();
        }
        catch
        {
            await runLock.DisposeAsync();
            throw;
        }
        // The silo and the peer each get a pool of 64 (the script's default); the checker needs a few more.
        var server = new BenchPostgres(dataDir, connection, keep, runLock);
        await using var db = new NpgsqlConnection(connection);
        await db.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT current_setting('server_version') || ', fsync ' || current_setting('fsync') || ', synchronous_commit ' || current_setting('synchronous_commit')", db);
        server.ServerVersion = (string)(await command.ExecuteScalarAsync())!;
        await using var limit = new NpgsqlCommand("SELECT current_setting('max_connections')::int", db);
        server.MaxConnections = (int)(await limit.ExecuteScalarAsync())!;
        return server;
    }

    /// <summary>
    /// Gives a new server the WAL of one that has been writing for a while. PostgreSQL creates and zero-fills (then fsyncs) each
    /// 16 MB WAL segment the first time it needs it, and only a server that has checkpointed through its WAL finds segments to
    /// recycle; a throw-away server creates them all while the first scenario runs (on this machine about 8% of the hot SKU's
    /// write time was spent so, sampled from pg_stat_activity), where every later scenario, and any server in production, reuses
    /// them. So this keeps <paramref name="sizeMegabytes"/> of segments for reuse (<c>min_wal_size</c>), writes that much WAL
    /// (non-transactional logical messages: no table, no dirty pages) and checkpoints, which turns the segments written into
    /// segments ready for reuse. Durability settings are left as they are. Returns what it did, for the report.
    /// </summary>
    public async Task<string> AgeWalAsync(int sizeMegabytes)
    {
        var started = Stopwatch.StartNew();
        await ConfigureAsync([("min_wal_size", $"{sizeMegabytes}MB")]);
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        // Segments named after the one being written are recycled ones waiting for reuse.
        const string ReadySql = "SELECT count(*) FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$' AND name > pg_walfile_name(pg_current_wal_lsn())";
        await using var ready = new NpgsqlCommand(ReadySql, connection);
        var before = Convert.ToInt64(await ready.ExecuteScalarAsync());
        var wanted = sizeMegabytes / 16;
        if (before < wanted * 3 / 4)
        {
            await using var write = new NpgsqlCommand(
                "SELECT count(pg_logical_emit_message(false, 'orleans-trade-bench', repeat('w', 1048576))) FROM generate_series(1, $1)", connection)
            { CommandTimeout = 600 };
            write.Parameters.AddWithValue(sizeMegabytes + sizeMegabytes / 2);
            await write.ExecuteScalarAsync();
            await using var checkpoint = new NpgsqlCommand("CHECKPOINT", connection) { CommandTimeout = 300 };
            await checkpoint.ExecuteNonQueryAsync();
        }
        var after = Convert.ToInt64(await ready.ExecuteScalarAsync());
        return $"min_wal_size {sizeMegabytes} MB, {after} WAL segments ready for reuse ({before} before ageing, {started.Elapsed.TotalSeconds:F1} s)";
    }

    /// <summary>
    /// Sets server parameters that take effect on a reload (ALTER SYSTEM, then pg_reload_conf), e.g. <c>max_wal_size</c>;
    /// returns them as the server now reports them, for the report.
    /// </summary>
    public async Task<string> ConfigureAsync(IReadOnlyList<(string Name, string Value)> settings)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        foreach (var (name, value) in settings)
        {
            if (!System.Text.RegularExpressions.Regex.IsMatch(name, "^[a-z_]+$"))
            {
                throw new ArgumentException($"--pg-settings: '{name}' is not a parameter name.");
            }
            await using var set = new NpgsqlCommand($"ALTER SYSTEM SET {name} = '{value.Replace("'", "''", StringComparison.Ordinal)}'", connection);
            await set.ExecuteNonQueryAsync();
        }
        await using (var reload = new NpgsqlCommand("SELECT pg_reload_conf()", connection))
        {
            await reload.ExecuteScalarAsync();
        }
        await Task.Delay(500); // the postmaster passes the reload on to its children asynchronously
        var now = new List<string>();
        foreach (var (name, _) in settings)
        {
            await using var show = new NpgsqlCommand($"SHOW {name}", connection);
            now.Add($"{name} = {await show.ExecuteScalarAsync()}");
        }
        return string.Join(", ", now);
    }

    /// <summary>
    /// Lets the server settle before a scenario, so none is measured in the wake of the one before: a checkpoint writes out
    /// what the last scenario left dirty, then this waits (at most two minutes) until no autovacuum worker is busy with its
    /// tables. Returns how long that took.
    /// </summary>
    public async Task<TimeSpan> QuietAsync()
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using (var checkpoint = new NpgsqlCommand("CHECKPOINT", connection) { CommandTimeout = 300 })
        {
            await checkpoint.ExecuteNonQueryAsync();
        }
        await using var workers = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'", connection);
        var idlePolls = 0;
        while (idlePolls < 2 && started.Elapsed < TimeSpan.FromMinutes(2))
        {
            idlePolls = Convert.ToInt64(await workers.ExecuteScalarAsync()) == 0 ? idlePolls + 1 : 0;
            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }
        return started.Elapsed;
    }

    public async Task<string> CreateDatabaseAsync(string name)
    {
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            NpgsqlConnection.ClearAllPools();
            await RunScriptAsync(_dataDir, _keep ? "stop" : "destroy");
        }
        finally
        {
            await _lock.DisposeAsync();
        }
    }

    /// <summary>An exclusive lock on <c>&lt;dataDir&gt;.lock</c> (flock under .NET's FileShare.None), or a clear refusal.</summary>
    private static FileStream TakeRunLock(string dataDir)
    {
        var path = Path.GetFullPath(dataDir).TrimEnd('/') + ".lock";
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new BenchmarkBusyException(
                $"Another benchmark run is using {dataDir} ({path} is locked): run one at a time, or give this one its own --pg-dir.", e);
        }
    }

    private static async Task<string> RunScriptAsync(string dataDir, string verb)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(RepoPaths.Root, "deploy", "dev-postgres.sh"), verb])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["PGDEV_DIR"] = dataDir;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"dev-postgres.sh {verb} failed ({process.ExitCode}): {await stderr}");
        }
        return await stdout;
    }
}

/// <summary>Another run holds the PostgreSQL folder this one was asked to use.</summary>
public sealed class BenchmarkBusyException(string message, Exception inner) : Exception(message, inner);
