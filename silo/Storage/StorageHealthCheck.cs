using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Orleans.Trade.Silo.Storage;

/// <summary>Ready only when the database answers and holds Orleans' queries.</summary>
public sealed class StorageHealthCheck(TradeDatabase database) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            var queries = Convert.ToInt64(await connection.Command("SELECT COUNT(*) FROM OrleansQuery").ExecuteScalarAsync(cancellationToken));
            return queries > 0
                ? HealthCheckResult.Healthy($"{database.Provider} answers; {queries} Orleans queries installed.")
                : HealthCheckResult.Unhealthy($"{database.Provider} answers but holds no Orleans queries; run the migrator.");
        }
        catch (Exception ex)
        {
            return HealthCheckResult.Unhealthy($"{database.Provider} does not answer.", ex);
        }
    }
}
