using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using Orleans.Trade.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orleans.Trade.Tests.Hosting;

/// <summary>SIGTERM, as Kubernetes stops a pod: readiness fails, in-flight requests finish, the silo leaves the cluster cleanly.</summary>
public sealed class GracefulShutdownTests(ITestOutputHelper output)
{
    private const int InFlightRequests = 200;
    private const int StartingStock = 1000;
    private const int DeadStatus = 6; // Orleans' SiloStatus.Dead, as the membership table stores it

    [Fact]
    public async Task Sigterm_finishes_in_flight_requests_fails_readiness_and_marks_the_silo_dead()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("shutdown");
        var clusterId = "shutdown-" + Guid.NewGuid().ToString("N")[..8];
        var storage = SiloStorage.Postgres(connectionString);
        await using var silo = await SiloProcess.StartAsync(storage, clusterId, new Dictionary<string, string> { ["Shutdown__TimeoutSeconds"] = "20" });
        using var admin = silo.CreateClient();
        await TradeHttp.SeedSkuAsync(admin, "sku-drain", "seller-d");
        Assert.Equal(HttpStatusCode.OK, (await admin.PutJsonAsync("/api/v1/skus/sku-drain/stock/wh-cn-1", new { onHand = StartingStock, version = 1 })).Status);
        Assert.Equal(HttpStatusCode.OK, await ReadinessAsync(admin));

        // Requests under way when the signal arrives: each is answered in full or never reaches the silo.
        var requests = Enumerable.Range(0, InFlightRequests).Select(i => AdjustAsync(admin, i)).ToArray();
        var stopwatch = Stopwatch.StartNew();
        silo.Terminate();
        var readiness = new List<HttpStatusCode?>();
        using var probe = new HttpClient { BaseAddress = silo.BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        while (silo.IsRunning && stopwatch.Elapsed < TimeSpan.FromSeconds(40))
        {
            readiness.Add(await ReadinessAsync(probe));
            await Task.Delay(50);
        }
        var exitCode = await silo.WaitForExitAsync(TimeSpan.FromSeconds(40));
        output.WriteLine($"Exited {exitCode} after {stopwatch.ElapsedMilliseconds} ms; readiness: {string.Join(", ", readiness.Select(s => s?.ToString() ?? "refused"))}");
        Assert.True(exitCode == 0, $"exit code {exitCode}:\n{silo.RecentLog}");

        // Once readiness failed (503, or nothing listening) it never came back.
        var firstFailure = readiness.FindIndex(s => s != HttpStatusCode.OK);
        Assert.True(firstFailure >= 0 || readiness.Count == 0, "readiness never failed during shutdown");
        Assert.All(readiness.Skip(Math.Max(firstFailure, 0)), s => Assert.NotEqual(HttpStatusCode.OK, s));

        var outcomes = await Task.WhenAll(requests);
        var acknowledged = outcomes.Count(o => o == HttpStatusCode.OK);
        output.WriteLine($"{acknowledged} of {InFlightRequests} adjustments acknowledged before shutdown; the rest never reached the silo.");
        Assert.All(outcomes, o => Assert.True(o is null or HttpStatusCode.OK, $"an in-flight request was answered {o}"));

        Assert.Equal(DeadStatus, await MembershipStatusAsync(connectionString, clusterId, silo.SiloPort));

        // The silo left cleanly, so a new one starts at once, and every acknowledged adjustment is there.
        await silo.StartAsync();
        var (status, view) = await admin.GetJsonAsync("/api/v1/skus/sku-drain");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(StartingStock - acknowledged, view!["stock"]!["totalAvailable"]!.GetValue<long>());
    }

    /// <summary>200 or 503; null when nothing answered (refused, reset or closed before a response).</summary>
    private static async Task<HttpStatusCode?> ReadinessAsync(HttpClient client)
    {
        try
        {
            using var response = await client.GetAsync("/health/ready");
            return response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or SocketException)
        {
            return null;
        }
    }

    private static async Task<HttpStatusCode?> AdjustAsync(HttpClient admin, int i)
    {
        try
        {
            return (await admin.PostJsonAsync("/api/v1/skus/sku-drain/stock/wh-cn-1/adjustments", new { eventId = $"evt-drain-{i}", delta = -1 })).Status;
        }
        // A connection the closing listener drops between accept and the first byte can surface as a bare
        // SocketException from the connect step (HttpClient reads the remote end point of a dead socket):
        // the request was never sent, so it is "never reached the silo" like a refused connection.
        catch (Exception e) when (e is HttpRequestException or SocketException)
        {
            return null;
        }
    }

    private static async Task<int> MembershipStatusAsync(string connectionString, string clusterId, int siloPort)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT Status FROM OrleansMembershipTable WHERE DeploymentId = @cluster AND Port = @port", connection);
        command.Parameters.AddWithValue("cluster", clusterId);
        command.Parameters.AddWithValue("port", siloPort);
        return Convert.ToInt32(await command.ExecuteScalarAsync());
    }
}
