using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace Orleans.Trade.Tests.Infrastructure;

/// <summary>An Orleans client of a test silo's cluster, for tests that call grains as the trade API's callers would not.</summary>
public static class SiloClients
{
    /// <summary>A started client host (dispose it); on PostgreSQL through the cluster's membership table, on SQLite through the gateway.</summary>
    public static async Task<IHost> ConnectAsync(SiloProcess silo)
    {
        var host = Host.CreateDefaultBuilder()
            .UseOrleansClient(client =>
            {
                if (silo.Storage.Provider == "postgres")
                {
                    client.UseAdoNetClustering(o => { o.Invariant = "Npgsql"; o.ConnectionString = silo.Storage.Target; })
                        .Configure<ClusterOptions>(o => { o.ClusterId = silo.ClusterId; o.ServiceId = silo.ClusterId; });
                }
                else
                {
                    client.UseLocalhostClustering(silo.GatewayPort, silo.ClusterId, silo.ClusterId);
                }
            })
            .Build();
        await host.StartAsync();
        return host;
    }
}
