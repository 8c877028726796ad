using System.Net;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Trade.Silo.Storage;

namespace Orleans.Trade.Silo;

/// <summary>Orleans, telemetry and operations endpoints: the only place that knows providers and connection strings.</summary>
public static class SiloConfiguration
{
    public static ISiloBuilder ConfigureTradeSilo(this ISiloBuilder silo, IConfiguration configuration, TradeDatabase database)
    {
        var orleans = configuration.GetSection("Orleans");
        var clusterId = orleans["ClusterId"] ?? "orleans-trade";
        var serviceId = orleans["ServiceId"] ?? "orleans-trade";
        var siloPort = orleans.GetValue("SiloPort", 11111);
        var gatewayPort = orleans.GetValue("GatewayPort", 30000);

        if (database.Provider == StorageProvider.Postgres)
        {
            var advertised = IPAddress.Parse(orleans["AdvertisedIP"] ?? "127.0.0.1");
            silo.Configure<ClusterOptions>(o => { o.ClusterId = clusterId; o.ServiceId = serviceId; });
            silo.ConfigureEndpoints(advertised, siloPort, gatewayPort, listenOnAnyHostAddress: orleans.GetValue("ListenOnAnyHostAddress", false));
            silo.UseAdoNetClustering(o => { o.Invariant = database.Invariant; o.ConnectionString = database.ConnectionString; });
        }
        else
        {
            // The embedded default is a single silo; membership needs no database.
            silo.UseLocalhostClustering(siloPort, gatewayPort, serviceId: serviceId, clusterId: clusterId);
        }
        silo.AddAdoNetGrainStorage(StorageNames.Trade, o => { o.Invariant = database.Invariant; o.ConnectionString = database.ConnectionString; });
        silo.UseAdoNetReminderService(o => { o.Invariant = database.Invariant; o.ConnectionString = database.ConnectionString; });
        silo.AddActivityPropagation();
        silo.AddDashboard();
        return silo;
    }

    public static WebApplicationBuilder AddTradeTelemetry(this WebApplicationBuilder builder)
    {
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("orleans-trade", serviceInstanceId: Environment.MachineName + ":" + Environment.ProcessId))
            .WithTracing(t => t
                .AddAspNetCoreInstrumentation(o => o.Filter = ctx => !ctx.Request.Path.StartsWithSegments("/metrics") && !ctx.Request.Path.StartsWithSegments("/health"))
                .AddSource("Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application")
                .AddNpgsql())
            .WithMetrics(m => m
                .AddAspNetCoreInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter("Microsoft.Orleans", "Npgsql")
                .AddPrometheusExporter());
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            otel.UseOtlpExporter();
        }
        return builder;
    }

    public static WebApplication MapTradeOperations(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains("ready"),
            ResultStatusCodes = { [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable },
        });
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapOrleansDashboard(routePrefix: "/dashboard");
        return app;
    }
}
