using System.Diagnostics;
using System.Net;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Cluster;

/// <summary>deploy/cluster-local.sh, as an operator runs it: two silos on one PostgreSQL answer for each other.</summary>
public sealed class ClusterScriptTests
{
    [Fact]
    public async Task Cluster_local_script_starts_silos_that_share_one_cluster()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("script");
        var clusterDir = Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"));
        var env = new Dictionary<string, string>
        {
            ["ConnectionStrings__Trade"] = connectionString,
            ["CLUSTER_DIR"] = clusterDir,
            ["HTTP_BASE_PORT"] = FreePorts.NextRun(2).ToString(),
            ["SILO_BASE_PORT"] = FreePorts.NextRun(2).ToString(),
            ["GATEWAY_BASE_PORT"] = FreePorts.NextRun(2).ToString(),
            ["CLUSTER_ID"] = "script-" + Guid.NewGuid().ToString("N")[..8],
            ["SILO_DLL"] = RepoPaths.SiloDll,
            ["Auth__BootstrapAdminKey"] = SiloProcess.AdminKey,
        };
        try
        {
            var urls = (await RunScript(env, "start", "2")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(2, urls.Length);
            using var first = new HttpClient { BaseAddress = new Uri(urls[0]) };
            using var second = new HttpClient { BaseAddress = new Uri(urls[1]) };
            first.DefaultRequestHeaders.Add("X-Api-Key", SiloProcess.AdminKey);
            second.DefaultRequestHeaders.Add("X-Api-Key", SiloProcess.AdminKey);

            await TradeHttp.SeedSkuAsync(first, "script-sku", "seller-s");
            Assert.Equal(HttpStatusCode.OK, (await first.PutJsonAsync("/api/v1/skus/script-sku/stock/wh-cn-1", new { onHand = 42, version = 1 })).Status);
            var (status, view) = await second.GetJsonAsync("/api/v1/skus/script-sku");

            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(42, view!["stock"]!["totalAvailable"]!.GetValue<long>());
            var statusLines = await RunScript(env, "status");
            Assert.Equal(2, statusLines.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => l.EndsWith("ready")));
        }
        finally
        {
            await RunScript(env, "stop");
        }
    }

    [Fact]
    public async Task Cluster_local_script_refuses_a_taken_port_and_never_signals_a_process_a_stale_pidfile_names()
    {
        // A silo that could not bind its port exited, while whatever held its HTTP port answered "ready" for it; and a pidfile
        // left by a silo that died named whatever process took its pid since, which stop then killed.
        var clusterDir = Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(clusterDir);
        var httpBase = FreePorts.NextRun(2);
        using var holder = new System.Net.Sockets.TcpListener(IPAddress.Loopback, httpBase + 1);
        holder.Start();
        using var bystander = Process.Start(new ProcessStartInfo("sleep", "300") { UseShellExecute = false })!;
        await File.WriteAllTextAsync(Path.Combine(clusterDir, "silo-0.pid"), bystander.Id.ToString());
        var env = new Dictionary<string, string>
        {
            ["ConnectionStrings__Trade"] = "Host=127.0.0.1;Port=1;Database=none",
            ["CLUSTER_DIR"] = clusterDir,
            ["HTTP_BASE_PORT"] = httpBase.ToString(),
            ["SILO_BASE_PORT"] = FreePorts.NextRun(2).ToString(),
            ["GATEWAY_BASE_PORT"] = FreePorts.NextRun(2).ToString(),
            ["SILO_DLL"] = RepoPaths.SiloDll,
        };
        try
        {
            var (started, startErrors) = await RunScriptForExit(env, "start", "2");
            Assert.NotEqual(0, started);
            Assert.Contains($"port {httpBase + 1} (silo 1) is in use", startErrors);
            Assert.False(File.Exists(Path.Combine(clusterDir, "silo-1.pid")), "a silo was started");

            await File.WriteAllTextAsync(Path.Combine(clusterDir, "silo-0.pid"), bystander.Id.ToString());
            var status = await RunScript(env, "status");
            Assert.Contains("down", status);
            await RunScript(env, "stop");
            Assert.False(bystander.HasExited, "stop signalled a process that is not a silo");
        }
        finally
        {
            bystander.Kill();
        }
    }

    private static async Task<(int ExitCode, string Errors)> RunScriptForExit(IReadOnlyDictionary<string, string> env, params string[] args)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(RepoPaths.Root, "deploy", "cluster-local.sh"), .. args])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var (key, value) in env)
        {
            start.Environment[key] = value;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(deadline.Token);
        await stdout;
        return (process.ExitCode, await stderr);
    }

    private static Task<string> RunScript(IReadOnlyDictionary<string, string> env, params string[] args) =>
        CommandRunner.RunAsync("bash", [Path.Combine(RepoPaths.Root, "deploy", "cluster-local.sh"), .. args], env, TimeSpan.FromMinutes(3));
}
