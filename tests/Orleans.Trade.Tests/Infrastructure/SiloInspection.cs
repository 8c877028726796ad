using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Trade.Silo;
using Orleans.Trade.Silo.Storage;

namespace Orleans.Trade.Tests.Infrastructure;

/// <summary>Ways to look into a silo without going through the trade API: its options, its cluster's directory, its metrics.</summary>
public static class SiloInspection
{
    /// <summary>A silo host configured as the product configures it, from <paramref name="settings"/>, not started.</summary>
    public static IHost BuildUnstartedSilo(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        var database = TradeDatabase.FromConfiguration(builder.Configuration);
        builder.UseOrleans(silo => silo.ConfigureTradeSilo(builder.Configuration, database));
        return builder.Build();
    }

    /// <summary>Grain key → the silo port its activation lives on (keys with no activation are left out), through an Orleans client of the cluster.</summary>
    public static async Task<Dictionary<string, int>> ActivationPortsAsync<TGrain>(string connectionString, string clusterId, IEnumerable<string> keys)
        where TGrain : IGrainWithStringKey
    {
        using var host = Host.CreateDefaultBuilder()
            .UseOrleansClient(client => client
                .UseAdoNetClustering(o => { o.Invariant = "Npgsql"; o.ConnectionString = connectionString; })
                .Configure<ClusterOptions>(o => { o.ClusterId = clusterId; o.ServiceId = clusterId; }))
            .Build();
        await host.StartAsync();
        var grains = host.Services.GetRequiredService<IClusterClient>();
        var management = grains.GetGrain<IManagementGrain>(0);
        var ports = new Dictionary<string, int>();
        foreach (var key in keys)
        {
            if (await management.GetActivationAddress(grains.GetGrain<TGrain>(key)) is { } address)
            {
                ports[key] = address.Endpoint.Port;
            }
        }
        await host.StopAsync();
        return ports;
    }

    /// <summary>
    /// The sum of a metric's series on <c>/metrics</c> (Prometheus text), those with <paramref name="label"/> only when given
    /// (e.g. <c>grain_type="order"</c>); -1 when there is none. The endpoint answers from a short scrape cache.
    /// </summary>
    public static async Task<long> MetricAsync(HttpClient client, string name, string? label = null)
    {
        var text = await client.GetStringAsync("/metrics");
        var labels = label is null ? "(\\{[^}]*\\})?" : $"\\{{[^}}]*{Regex.Escape(label)}[^}}]*\\}}";
        var series = new Regex($"^{Regex.Escape(name)}{labels} ([0-9.e+]+)", RegexOptions.Multiline).Matches(text);
        return series.Count == 0 ? -1 : series.Sum(m => (long)double.Parse(m.Groups[^1].Value, CultureInfo.InvariantCulture));
    }

    /// <summary>Grain states the silo has read so far (items of its grain-state read batches), once the scrape cache has caught up.</summary>
    public static async Task<long> SettledGrainStateReadsAsync(HttpClient client)
    {
        long last = -2, now;
        while ((now = await MetricAsync(client, "trade_storage_batch_size_sum", "batcher=\"grain-state-read\"")) != last)
        {
            last = now;
            await Task.Delay(TimeSpan.FromSeconds(1.2));
        }
        return now;
    }
}
