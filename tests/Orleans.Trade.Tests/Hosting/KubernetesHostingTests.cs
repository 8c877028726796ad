using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Trade.Silo;
using Orleans.Trade.Silo.Storage;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Hosting;

/// <summary>
/// <c>Orleans:Kubernetes=true</c>: the silo takes its name and address from the pod (downward API), keeps membership in
/// PostgreSQL, and readiness fails once shutdown begins. Options only: no Kubernetes API server is needed.
/// </summary>
public sealed class KubernetesHostingTests
{
    private static readonly Dictionary<string, string?> PostgresSettings = new()
    {
        ["Storage:Provider"] = "postgres",
        ["ConnectionStrings:Trade"] = "Host=127.0.0.1;Port=5432;Database=trade;Username=postgres",
        ["Orleans:ClusterId"] = "k8s-cluster",
        ["Orleans:ServiceId"] = "k8s-service",
        ["Orleans:SiloPort"] = "11111",
        ["Orleans:GatewayPort"] = "30000",
    };

    [Fact]
    public void Kubernetes_hosting_names_the_silo_after_the_pod_and_advertises_the_pod_ip()
    {
        var pod = new Dictionary<string, string> { ["POD_NAME"] = "orleans-trade-7c9f-abcde", ["POD_NAMESPACE"] = "orleans-trade", ["POD_IP"] = "10.1.2.3" };
        foreach (var (name, value) in pod)
        {
            Environment.SetEnvironmentVariable(name, value);
        }
        try
        {
            using var host = SiloInspection.BuildUnstartedSilo(new(PostgresSettings) { ["Orleans:Kubernetes"] = "true" });

            var endpoints = host.Services.GetRequiredService<IOptions<EndpointOptions>>().Value;
            Assert.Equal(IPAddress.Parse("10.1.2.3"), endpoints.AdvertisedIPAddress);
            Assert.Equal(11111, endpoints.SiloPort);
            Assert.Equal(30000, endpoints.GatewayPort);
            Assert.Equal(new IPEndPoint(IPAddress.Any, 11111), endpoints.SiloListeningEndpoint);
            Assert.Equal(new IPEndPoint(IPAddress.Any, 30000), endpoints.GatewayListeningEndpoint);
            Assert.Equal("orleans-trade-7c9f-abcde", host.Services.GetRequiredService<IOptions<SiloOptions>>().Value.SiloName);
            var cluster = host.Services.GetRequiredService<IOptions<ClusterOptions>>().Value;
            Assert.Equal(("k8s-cluster", "k8s-service"), (cluster.ClusterId, cluster.ServiceId));
        }
        finally
        {
            foreach (var name in pod.Keys)
            {
                Environment.SetEnvironmentVariable(name, null);
            }
        }
    }

    [Fact]
    public void Without_the_switch_the_silo_advertises_the_configured_address()
    {
        using var host = SiloInspection.BuildUnstartedSilo(new(PostgresSettings) { ["Orleans:AdvertisedIP"] = "127.0.0.2" });

        var endpoints = host.Services.GetRequiredService<IOptions<EndpointOptions>>().Value;
        Assert.Equal(IPAddress.Parse("127.0.0.2"), endpoints.AdvertisedIPAddress);
        Assert.Null(endpoints.SiloListeningEndpoint);
    }

    [Fact]
    public void Kubernetes_hosting_is_refused_on_the_embedded_database()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "sqlite",
            ["Storage:SqlitePath"] = Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db"),
            ["Orleans:Kubernetes"] = "true",
        };

        var error = Assert.Throws<InvalidOperationException>(() => SiloInspection.BuildUnstartedSilo(settings));
        Assert.Contains("Storage:Provider=postgres", error.Message);
    }

    [Fact]
    public async Task Readiness_fails_once_shutdown_has_begun()
    {
        var lifetime = new StoppableLifetime();
        var check = new ShutdownHealthCheck(lifetime);

        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);
        lifetime.StopApplication();
        Assert.Equal(HealthStatus.Unhealthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);
    }

    [Fact]
    public void Shutdown_timeout_comes_from_configuration()
    {
        var services = new ServiceCollection();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Shutdown:TimeoutSeconds"] = "45" }).Build();
        services.AddGracefulShutdown(configuration);
        using var provider = services.BuildServiceProvider();

        Assert.Equal(TimeSpan.FromSeconds(45), provider.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
    }

    private sealed class StoppableLifetime : IHostApplicationLifetime
    {
        private readonly CancellationTokenSource _stopping = new();
        public CancellationToken ApplicationStarted => CancellationToken.None;
        public CancellationToken ApplicationStopping => _stopping.Token;
        public CancellationToken ApplicationStopped => CancellationToken.None;
        public void StopApplication() => _stopping.Cancel();
    }
}
