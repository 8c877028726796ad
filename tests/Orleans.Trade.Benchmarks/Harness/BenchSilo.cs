using Orleans.Trade.Tests.Infrastructure;
using System.Diagnostics;

namespace Orleans.Trade.Benchmarks.Harness;

/// <summary>
/// The product under test: the built silo as its own process on PostgreSQL, HTTP on a free loopback port, with the same
/// environment the HTTP tests give it (tests/Orleans.Trade.Tests/Infrastructure/SiloProcess.cs). Its output goes to a log file.
/// </summary>
public sealed class BenchSilo : IAsyncDisposable
{
    public const string AdminKey = "bench-bootstrap-admin-key-0123456789";
    private readonly Process _process;

    private BenchSilo(Process process, Uri baseAddress, string logFile)
    {
        _process = process;
        BaseAddress = baseAddress;
        LogFile = logFile;
    }

    public Uri BaseAddress { get; }
    public string LogFile { get; }

    public static async Task<BenchSilo> StartAsync(string siloDll, string connectionString, string name, string logDir)
    {
        var httpPort = FreePorts.Next();
        var baseAddress = new Uri($"http://127.0.0.1:{httpPort}/");
        var start = new ProcessStartInfo("dotnet", [siloDll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        var env = start.Environment;
        env["ASPNETCORE_URLS"] = baseAddress.ToString().TrimEnd('/');
        env["DOTNET_ENVIRONMENT"] = "Production";
        env["Storage__Provider"] = "postgres";
        env["ConnectionStrings__Trade"] = connectionString;
        env["Orleans__ClusterId"] = name;
        env["Orleans__ServiceId"] = name;
        env["Orleans__SiloPort"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture);
        env["Orleans__GatewayPort"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture);
        env["Auth__BootstrapAdminKey"] = AdminKey;
        env["Logging__LogLevel__Default"] = "Warning";
        env["Security__SecretsKey"] = Convert.ToBase64String(Enumerable.Range(100, 32).Select(i => (byte)i).ToArray());
        env["Payments__CardFingerprintKey"] = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

        Directory.CreateDirectory(logDir);
        var logFile = Path.Combine(logDir, $"silo-{name}.log");
        var log = new StreamWriter(logFile, append: false) { AutoFlush = true };
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var silo = new BenchSilo(process, baseAddress, logFile);
        Console.Error.WriteLine($"bench: silo pid {process.Id} at {baseAddress} (log {logFile})");
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(120));
        return silo;
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is not null)
        {
            lock (log)
            {
                log.WriteLine(line);
            }
        }
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The silo exited with {_process.ExitCode} during start-up; see {LogFile}.");
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
        throw new TimeoutException($"The silo was not ready within {timeout}; see {LogFile}.");
    }

    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
