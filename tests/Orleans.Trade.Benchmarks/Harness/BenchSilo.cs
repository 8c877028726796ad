using Orleans.Trade.Tests.Infrastructure;
using System.Diagnostics;
using System.Globalization;

namespace Orleans.Trade.Benchmarks.Harness;

/// <summary>
/// The product under test: the built silo as its own process on PostgreSQL, HTTP on a free loopback port, with the same
/// environment the HTTP tests give it (tests/Orleans.Trade.Tests/Infrastructure/SiloProcess.cs). Its output goes to a log file.
/// It can be SIGKILLed and started again on the same ports and database, and several can form one cluster (same cluster id).
/// </summary>
public sealed class BenchSilo : IAsyncDisposable
{
    public const string AdminKey = "bench-bootstrap-admin-key-0123456789";
    private readonly string _siloDll;
    private readonly string _connectionString;
    private readonly string _clusterId;
    private readonly StreamWriter _log;
    private Process? _process;
    private int _starts;
    private bool _logClosed;

    public BenchSilo(string siloDll, string connectionString, string clusterId, string name, string logDir)
    {
        _siloDll = siloDll;
        _connectionString = connectionString;
        _clusterId = clusterId;
        Name = name;
        HttpPort = FreePorts.Next();
        SiloPort = FreePorts.Next();
        GatewayPort = FreePorts.Next();
        Directory.CreateDirectory(logDir);
        LogFile = Path.Combine(logDir, $"silo-{name}.log");
        _log = new StreamWriter(LogFile, append: false) { AutoFlush = true };
    }

    public string Name { get; }
    public int HttpPort { get; }
    public int SiloPort { get; }
    public int GatewayPort { get; }
    public Uri BaseAddress => new($"http://127.0.0.1:{HttpPort}/");
    public string LogFile { get; }
    public int ProcessId => _process?.Id ?? throw new InvalidOperationException($"Silo {Name} was never started.");
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Settings every silo of the run gets (<c>--silo-env NAME=VALUE;NAME=VALUE</c>), before its own.</summary>
    public static Dictionary<string, string> RunEnvironment { get; } = new(StringComparer.Ordinal);

    /// <summary>Settings added to (or overriding) the silo's environment at its next start.</summary>
    public Dictionary<string, string> ExtraEnvironment { get; } = new(StringComparer.Ordinal);

    /// <summary>A single silo with a cluster of its own, started and ready.</summary>
    public static async Task<BenchSilo> StartAsync(string siloDll, string connectionString, string name, string logDir)
    {
        var silo = new BenchSilo(siloDll, connectionString, name, name, logDir);
        try
        {
            await silo.StartAsync();
        }
        catch
        {
            await silo.DisposeAsync();
            throw;
        }
        return silo;
    }

    /// <summary>Starts the process (again, after <see cref="Kill"/>: same ports, database and cluster) and waits until it is ready.</summary>
    public async Task StartAsync()
    {
        if (IsRunning)
        {
            throw new InvalidOperationException($"Silo {Name} is already running.");
        }
        _process?.Dispose();
        var start = new ProcessStartInfo("dotnet", [_siloDll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        var env = start.Environment;
        env["ASPNETCORE_URLS"] = BaseAddress.ToString().TrimEnd('/');
        env["DOTNET_ENVIRONMENT"] = "Production";
        env["Storage__Provider"] = "postgres";
        env["ConnectionStrings__Trade"] = _connectionString;
        env["Orleans__ClusterId"] = _clusterId;
        env["Orleans__ServiceId"] = _clusterId;
        env["Orleans__SiloPort"] = SiloPort.ToString(CultureInfo.InvariantCulture);
        env["Orleans__GatewayPort"] = GatewayPort.ToString(CultureInfo.InvariantCulture);
        env["Auth__BootstrapAdminKey"] = AdminKey;
        env["Logging__LogLevel__Default"] = "Warning";
        // Every silo of a cluster, and every restart, must share these keys.
        env["Security__SecretsKey"] = Convert.ToBase64String(Enumerable.Range(100, 32).Select(i => (byte)i).ToArray());
        env["Payments__CardFingerprintKey"] = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
        foreach (var (name, value) in RunEnvironment.Concat(ExtraEnvironment))
        {
            env[name] = value;
        }

        if (_starts++ > 0)
        {
            Write($"---- bench: started again at {DateTime.UtcNow:HH:mm:ss.fff} UTC ----");
        }
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => Write(e.Data);
        process.ErrorDataReceived += (_, e) => Write(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        Console.Error.WriteLine($"bench: silo {Name} pid {process.Id} at {BaseAddress} (log {LogFile})");
        await WaitUntilReadyAsync(process, TimeSpan.FromSeconds(120));
    }

    /// <summary>SIGKILL: no graceful shutdown, no flushing; only what the silo wrote durably survives.</summary>
    public Task KillAsync() => KillAsync("SIGKILLed");

    private async Task KillAsync(string why)
    {
        if (_process is { HasExited: false } process)
        {
            // The silo runs inside the dotnet host, without children. Kill(entireProcessTree: true) would SIGSTOP it first and
            // then walk every process of the machine before the SIGKILL: seconds of a frozen silo on a busy machine.
            var sent = DateTime.UtcNow;
            process.Kill();
            // Not WaitForExit: it blocks a thread until the silo's redirected output ends, and that end is delivered by the
            // runtime's I/O threads, which a blocked continuation could be holding.
            await process.WaitForExitAsync();
            Write($"---- bench: {why} at {sent:HH:mm:ss.fff} UTC, exited by {DateTime.UtcNow:HH:mm:ss.fff} UTC ----");
        }
    }

    private void Write(string? line)
    {
        lock (_log)
        {
            if (line is not null && !_logClosed)
            {
                _log.WriteLine(line);
            }
        }
    }

    private async Task WaitUntilReadyAsync(Process process, TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"Silo {Name} exited with {process.ExitCode} during start-up; see {LogFile}.");
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
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"Silo {Name} was not ready within {timeout}; see {LogFile}.");
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync("stopped by the harness (SIGKILL) after the scenario");
        _process?.Dispose();
        lock (_log)
        {
            _logClosed = true;
            _log.Dispose();
        }
    }
}
