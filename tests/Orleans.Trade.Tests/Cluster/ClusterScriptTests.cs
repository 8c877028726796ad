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

    private static Task<string> RunScript(IReadOnlyDictionary<string, string> env, params string[] args) =>
        CommandRunner.RunAsync("bash", [Path.Combine(RepoPaths.Root, "deploy", "cluster-local.sh"), .. args], env, TimeSpan.FromMinutes(3));
}
