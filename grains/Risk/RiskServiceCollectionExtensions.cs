using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Orleans.Trade.Risk;

public static class RiskServiceCollectionExtensions
{
    /// <summary>
    /// Binds <see cref="RiskOptions"/> to the <c>Risk</c> section and registers <see cref="IRiskScorer"/> as a singleton that
    /// loads the model on first use and watches its file.
    /// </summary>
    public static IServiceCollection AddRiskScoring(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<RiskOptions>(configuration.GetSection("Risk"));
        services.AddSingleton<RiskScorer>();
        services.AddSingleton<IRiskScorer>(sp => sp.GetRequiredService<RiskScorer>());
        return services;
    }
}
