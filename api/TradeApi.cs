using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;
using Orleans.Trade.Api.Analytics;
using Orleans.Trade.Api.Auth;
using Orleans.Trade.Api.Common;
using Orleans.Trade.Api.Inventory;
using Orleans.Trade.Api.Logistics;
using Orleans.Trade.Api.Orders;
using Orleans.Trade.Api.Payments;
using Orleans.Trade.Api.Risk;
using Orleans.Trade.Api.Wallets;
using Scalar.AspNetCore;

namespace Orleans.Trade.Api;

/// <summary>Registers and maps the public HTTP API; the host supplies the store implementations and the grain factory.</summary>
public static class TradeApi
{
    public static IServiceCollection AddTradeApi(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(TimeProvider.System);
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.CamelCase, allowIntegerValues: false));
            o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
            o.SerializerOptions.Converters.Add(new StoredTextConverter());
            // A member an operation does not take is refused, not skipped: a misspelt optional member ("ammount" on a refund)
            // would otherwise be read as absent and do its default (refund everything), and a skipped value is never checked
            // (invalid UTF-8 in it went through).
            o.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        });
        // Malformed bodies reach TradeExceptionHandler instead of an empty 400.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = FrameworkProblems.Describe);
        services.AddExceptionHandler<TradeExceptionHandler>();

        // Read at start: a table naming a kind that does not exist stops the silo, naming the key.
        services.AddSingleton(CarrierStatusCodes.From(configuration));
        services.AddSingleton<SalesRecorder>();
        services.AddSingleton(sp =>
        {
            var flusher = ActivatorUtilities.CreateInstance<SalesFlusher>(sp);
            flusher.StartGauge();
            return flusher;
        });
        services.AddHostedService(sp => sp.GetRequiredService<SalesFlusher>());
        services.AddSingleton<CachedExperiments>();
        services.AddSingleton<SharedResultReads<(string, long), ExperimentResults>>();
        services.AddSingleton<ApiKeyCache>();
        services.AddSingleton<ApiKeyIssuer>();
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<ApiKeyAuthenticationOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName,
                o => o.BootstrapAdminKey = configuration["Auth:BootstrapAdminKey"]);
        services.AddAuthorization(Policies.Add);
        RateLimits.Add(services, configuration);
        FailedAuthentications.Add(services, configuration);

        services.AddOpenApi("v1", o =>
        {
            o.AddSchemaTransformer(RequestSchemas.Transform);
            o.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "Orleans.Trade API",
                    Version = "v1",
                    Description = "Real-time trade backend of a cross-border marketplace. Authenticate with an API key in the X-Api-Key header.",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[ApiKeyAuthenticationHandler.SchemeName] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.ApiKey,
                    In = ParameterLocation.Header,
                    Name = ApiKeyAuthenticationHandler.HeaderName,
                    Description = "An API key issued by POST /api/v1/api-keys (or the bootstrap admin key).",
                };
                document.Security ??= [];
                document.Security.Add(new OpenApiSecurityRequirement
                {
                    [new OpenApiSecuritySchemeReference(ApiKeyAuthenticationHandler.SchemeName, document)] = [],
                });
                return Task.CompletedTask;
            });
        });
        return services;
    }

    /// <summary>Adds the middleware the API needs; call before mapping endpoints.</summary>
    public static WebApplication UseTradeApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.Use(app.Services.GetRequiredService<RateLimits>().Enforce); // after authentication: limits are per caller
        app.UseAuthorization();
        return app;
    }

    public static IEndpointRouteBuilder MapTradeApi(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapScalarApiReference("/docs", o => o.WithTitle("Orleans.Trade API").WithOpenApiRoutePattern("/openapi/{documentName}.json"));
        var v1 = app.MapGroup("").ProducesCommonProblems().RefuseBodiesWhereNoneIsTaken();
        v1.MapApiKeysApiV1();
        v1.MapInventoryApiV1();
        v1.MapOrdersApiV1();
        v1.MapCouponsApiV1();
        v1.MapDisputesApiV1();
        v1.MapReturnsApiV1();
        v1.MapShippingApiV1();
        v1.MapCarriersApiV1();
        v1.MapCarrierPerformanceApiV1();
        v1.MapTrackingApiV1();
        v1.MapCarrierFeedApiV1();
        v1.MapDispatchApiV1();
        v1.MapLabelsApiV1();
        v1.MapPaymentMethodsApiV1();
        v1.MapPaymentsApiV1();
        v1.MapRiskApiV1();
        v1.MapFxRatesApiV1();
        v1.MapWalletsApiV1();
        v1.MapAnalyticsApiV1();
        v1.MapBenchmarksApiV1();
        v1.MapServiceScoresApiV1();
        v1.MapMarketingApiV1();
        v1.MapFunnelApiV1();
        v1.MapInventoryTurnoverApiV1();
        v1.MapExperimentsApiV1();
        app.MapAnalystPage();
        return app;
    }
}
