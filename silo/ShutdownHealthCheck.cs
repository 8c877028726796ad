using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Orleans.Trade.Silo;

/// <summary>Not ready once shutdown has begun, so a load balancer stops sending new requests while in-flight ones finish.</summary>
public sealed class ShutdownHealthCheck(IHostApplicationLifetime lifetime) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(lifetime.ApplicationStopping.IsCancellationRequested
            ? HealthCheckResult.Unhealthy("The silo is shutting down.")
            : HealthCheckResult.Healthy("The silo is not shutting down."));
}
