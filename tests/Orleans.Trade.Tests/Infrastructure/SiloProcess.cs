using System.Collections.Concurrent;
using System.Diagnostics;

namespace Orleans.Trade.Tests.Infrastructure;

/// <summary>Where a silo keeps its state: a PostgreSQL database or a SQLite file.</summary>
public sealed record SiloStorage(string Provider, string Target)
{
    public static SiloStorage Postgres(string connectionString) => new("postgres", connectionString);
    public static SiloStorage Sqlite(string path) => new("sqlite", path);

    /// <summary>An open connection to the silo's database, for a test to look at what was stored.</summary>
    public async Task<System.Data.Common.DbConnection> OpenAsync()
    {
        System.Data.Common.DbConnection connection = Provider == "postgres"
            ? new Npgsql.NpgsqlConnection(Target)
            : new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Target}");
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>
    /// Until the answer is disposed, every write of grain state named <paramref name="stateName"/> waits 1.5 s and then fails
    /// (PostgreSQL): a write in flight long enough for reads that interleave with it to run, which then does not land.
    /// </summary>
    public async Task<IAsyncDisposable> RefuseStateWritesAsync(string stateName)
    {
        var name = "refuse_" + new string(stateName.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray());
        await ExecuteAsync($"""
            CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(1.5); RAISE EXCEPTION 'disk full'; END $$;
            CREATE TRIGGER {name} BEFORE INSERT OR UPDATE ON grain_state FOR EACH ROW
                WHEN (NEW.state_name = '{stateName}') EXECUTE FUNCTION {name}();
            """);
        return new Dropping(() => ExecuteAsync($"DROP TRIGGER {name} ON grain_state; DROP FUNCTION {name}();"));
    }

    private sealed class Dropping(Func<Task> drop) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await drop();
    }

    /// <summary>Runs <paramref name="sql"/> (no parameters), e.g. a trigger a test puts in the silo's way.</summary>
    public async Task ExecuteAsync(string sql)
    {
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The first column of the first row of <paramref name="sql"/>, with one parameter <paramref name="name"/>.</summary>
    public async Task<object?> ScalarAsync(string sql, string name, string value)
    {
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
        return await command.ExecuteScalarAsync();
    }
}

/// <summary>
/// A real silo process (the built Orleans.Trade.Silo.dll) serving HTTP on a loopback port. It can be SIGKILLed and started
/// again on the same ports and storage, as an operator's crash would.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    public const string AdminKey = "test-bootstrap-admin-key-0123456789";
    private readonly ConcurrentQueue<string> _log = new();
    private Process? _process;

    public SiloProcess(SiloStorage storage, string clusterId, IReadOnlyDictionary<string, string>? extraEnvironment = null)
    {
        Storage = storage;
        ClusterId = clusterId;
        ExtraEnvironment = new Dictionary<string, string>(extraEnvironment ?? new Dictionary<string, string>());
        HttpPort = FreePorts.Next();
        SiloPort = FreePorts.Next();
        GatewayPort = FreePorts.Next();
    }

    public SiloStorage Storage { get; }
    public string ClusterId { get; }
    /// <summary>Extra settings for the process; change them between <see cref="Kill"/> and <see cref="StartAsync()"/> to restart differently.</summary>
    public Dictionary<string, string> ExtraEnvironment { get; }
    public int HttpPort { get; }
    public int SiloPort { get; }
    public int GatewayPort { get; }
    public Uri BaseAddress => new($"http://127.0.0.1:{HttpPort}/");
    public bool IsRunning => _process is { HasExited: false };
    public string RecentLog => string.Join('\n', _log.TakeLast(80));

    /// <summary>When set, every line the silo prints is also appended here (for tests that search the whole log).</summary>
    public string? LogFile { get; set; }

    public static async Task<SiloProcess> StartAsync(SiloStorage storage, string clusterId, IReadOnlyDictionary<string, string>? env = null)
    {
        var silo = new SiloProcess(storage, clusterId, env);
        await silo.StartAsync();
        return silo;
    }

    public async Task StartAsync()
    {
        if (IsRunning)
        {
            throw new InvalidOperationException("The silo is already running.");
        }
        var start = new ProcessStartInfo("dotnet", [RepoPaths.SiloDll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        var env = start.Environment;
        env["ASPNETCORE_URLS"] = BaseAddress.ToString().TrimEnd('/');
        env["DOTNET_ENVIRONMENT"] = "Production";
        env["Storage__Provider"] = Storage.Provider;
        if (Storage.Provider == "postgres")
        {
            env["ConnectionStrings__Trade"] = Storage.Target;
        }
        else
        {
            env["Storage__SqlitePath"] = Storage.Target;
        }
        env["Orleans__ClusterId"] = ClusterId;
        env["Orleans__ServiceId"] = ClusterId;
        env["Orleans__SiloPort"] = SiloPort.ToString();
        env["Orleans__GatewayPort"] = GatewayPort.ToString();
        env["Auth__BootstrapAdminKey"] = AdminKey;
        env["Logging__LogLevel__Default"] = "Warning";
        // A fixed key for sealing secrets, as an operator would configure for every silo of a cluster.
        env["Security__SecretsKey"] = Convert.ToBase64String(Enumerable.Range(100, 32).Select(i => (byte)i).ToArray());
        foreach (var (key, value) in ExtraEnvironment)
        {
            env[key] = value;
        }

        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => Remember(e.Data);
        _process.ErrorDataReceived += (_, e) => Remember(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
    }

    private void Remember(string? line)
    {
        if (line is null)
        {
            return;
        }
        _log.Enqueue(line);
        if (LogFile is { } file)
        {
            lock (_log)
            {
                File.AppendAllText(file, line + "\n");
            }
        }
        while (_log.Count > 400 && _log.TryDequeue(out _))
        {
        }
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process!.HasExited)
            {
                // Without a timeout, WaitForExit also waits until the redirected output has been read to its end: the log then
                // holds the silo's last words (a flaky test once saw them missing).
                _process.WaitForExit();
                throw new InvalidOperationException($"The silo exited with {_process.ExitCode} during start-up:\n{RecentLog}");
            }
            try
            {
                using var response = await http.GetAsync("health/ready");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (System.Net.Sockets.SocketException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"The silo was not ready within {timeout}:\n{RecentLog}");
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing; only what was durably written survives.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false } process)
        {
            // A plain SIGKILL of the silo (it starts no child processes): the tree-walking Kill first SIGSTOPs the process and scans
            // every process on the machine, which makes the crash gentler and slower than a real one.
            process.Kill();
            process.WaitForExit();
        }
    }

    /// <summary>SIGTERM, as Kubernetes stops a pod: the silo shuts down gracefully. Wait with <see cref="WaitForExitAsync"/>.</summary>
    public void Terminate()
    {
        if (_process is not { HasExited: false } process)
        {
            throw new InvalidOperationException("The silo is not running.");
        }
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", process.Id.ToString()]) { UseShellExecute = false })!;
        kill.WaitForExit();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -TERM {process.Id} exited {kill.ExitCode}.");
        }
    }

    /// <summary>The exit code; throws if the process is still running after <paramref name="timeout"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        var process = _process ?? throw new InvalidOperationException("The silo was never started.");
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The silo was still running {timeout} after it was asked to stop:\n{RecentLog}");
        }
        return process.ExitCode;
    }

    public HttpClient CreateClient(string? apiKey = AdminKey)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        }
        return client;
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process?.Dispose();
        return ValueTask.CompletedTask;
    }
}
