using Orleans.Trade.Api;
using Orleans.Trade.Api.Auth;
using Orleans.Trade.Api.Inventory;
using Orleans.Trade.Api.Orders;
using Orleans.Trade.Api.Payments;
using Orleans.Trade.Inventory;
using Orleans.Trade.Orders;
using Orleans.Trade.Risk;
using Orleans.Trade.Silo;
using Orleans.Trade.Silo.Storage;

// Commands: (none) run the silo; "migrate" apply the schema and exit; "api-keys create --role R [--subject S] [--name N]";
// "risk generate|train|evaluate ..." build and measure the payment risk model (no database, no Orleans).
var command = args.Length > 0 && !args[0].StartsWith('-') ? args[0] : "run";
// appsettings.json sits next to the binary; ./data stays relative to the working directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
var database = TradeDatabase.FromConfiguration(builder.Configuration);
builder.Services.AddSingleton(database);
builder.Services.AddSingleton<SchemaMigrator>();

switch (command)
{
    case "run":
        break;
    case "migrate":
        return await SiloCommands.MigrateAsync(builder);
    case "api-keys":
        return await SiloCommands.ApiKeysAsync(builder, args.Skip(1).ToArray());
    case "risk":
        return await Orleans.Trade.Silo.Risk.RiskCommands.RunAsync(builder.Configuration, args.Skip(1).ToArray());
    default:
        await Console.Error.WriteLineAsync($"Unknown command '{command}'. Commands: migrate, api-keys create --role <role> [--subject <id>] [--name <text>], risk generate|train|evaluate.");
        return 2;
}

// Orleans' providers read their queries from the database at start-up, so the schema must be in place first.
await SiloCommands.MigrateBeforeStartAsync(builder);

if (SiloConfiguration.ListenUrls(builder.Configuration) is { } urls)
{
    builder.WebHost.UseUrls(urls);
}

builder.UseOrleans(silo => silo.ConfigureTradeSilo(builder.Configuration, database));
builder.Services.AddTradeApi(builder.Configuration);
builder.Services.AddSingleton(SiloConfiguration.CreateTradeClock(builder.Configuration));
builder.Services.AddSingleton<SqlApiKeyStore>();
builder.Services.AddSingleton<IApiKeyStore>(sp => sp.GetRequiredService<SqlApiKeyStore>());
builder.Services.AddSingleton<SqlStockAlertStore>();
builder.Services.AddSingleton<IStockAlertSink>(sp => sp.GetRequiredService<SqlStockAlertStore>());
builder.Services.AddSingleton<IStockAlertQueries>(sp => sp.GetRequiredService<SqlStockAlertStore>());
builder.Services.AddSingleton<SqlSkuLedgerStore>();
builder.Services.AddSingleton<ISkuLedgerStore>(sp =>
{
    var store = sp.GetRequiredService<SqlSkuLedgerStore>();
    StorageInstruments.Meter.CreateObservableCounter("trade.storage.sku_writes_redone", () => store.RedoneWrites, "{round trip}",
        "SKU-ledger writes whose one-round-trip batch was refused (a key stored before, a lost version check) and done again the slower way.");
    StorageInstruments.Meter.CreateObservableCounter("trade.storage.sku_writes_isolated", () => store.IsolatedWrites, "{round trip}",
        "SKU-ledger writes failed as a whole by a statement the database refused, then written one SKU at a time so only the SKU at fault failed.");
    return store;
});
builder.Services.AddSingleton<Orleans.Trade.Orders.ICouponLedgerStore, SqlCouponLedgerStore>();
builder.Services.AddSingleton<ICardTokenStore>(sp => new CachedCardTokens(ActivatorUtilities.CreateInstance<SqlCardTokenStore>(sp)));
builder.Services.AddSingleton<ISandboxIdempotencyKeys, SqlSandboxIdempotencyKeys>();
builder.Services.AddSingleton<SqlLedgerStore>();
builder.Services.AddSingleton<Orleans.Trade.Wallets.ILedgerStore>(sp => sp.GetRequiredService<SqlLedgerStore>());
builder.Services.AddSingleton<Orleans.Trade.Api.Wallets.ILedgerQueries>(sp => sp.GetRequiredService<SqlLedgerStore>());
builder.Services.AddSingleton(SiloConfiguration.CreateSecretBox(builder.Configuration, database));
builder.Services.Configure<Orleans.Trade.Wallets.SettlementOptions>(builder.Configuration.GetSection("Settlement"));
// A settlement split or cycle no escrow release could follow stops the silo (see SettlementOptions.Problem).
builder.Services.ValidateOnStartBy<Orleans.Trade.Wallets.SettlementOptions>(o => o.Problem());
builder.Services.ConfigureReplacingLists<Orleans.Trade.Payments.PaymentOptions>(builder.Configuration.GetSection("Payments"));
// Built now, as the secret box is: a key that cannot be used stops the start instead of failing each card tokenised.
builder.Services.AddSingleton(SiloConfiguration.CreateCardFingerprintKey(builder.Configuration, database, out var cardKeyForThisSiloOnly));
builder.Services.AddSingleton<SqlOrderStore>();
builder.Services.AddSingleton<IStateOutboxWriter>(sp => sp.GetRequiredService<SqlOrderStore>());
builder.Services.AddSingleton<IOrderQueries>(sp => sp.GetRequiredService<SqlOrderStore>());
builder.Services.AddSingleton<Orleans.Trade.Inventory.IPlacedOrders>(sp => sp.GetRequiredService<SqlOrderStore>());
// R-DAT-2: storefront events for the conversion funnel, written and read by the API; old ones deleted by the pruner.
builder.Services.Configure<Orleans.Trade.Api.Analytics.FunnelOptions>(builder.Configuration.GetSection("Analytics"));
builder.Services.ValidateOnStartBy<Orleans.Trade.Api.Analytics.FunnelOptions>(o => o.Problem());
builder.Services.AddSingleton<SqlStorefrontEventStore>();
builder.Services.AddSingleton<Orleans.Trade.Api.Analytics.IStorefrontEvents>(sp => sp.GetRequiredService<SqlStorefrontEventStore>());
builder.Services.AddHostedService<StorefrontEventPruner>();
builder.Services.Configure<Orleans.Trade.Api.Analytics.StockSnapshotOptions>(builder.Configuration.GetSection("Analytics"));
builder.Services.ValidateOnStartBy<Orleans.Trade.Api.Analytics.StockSnapshotOptions>(o => o.Problem());
builder.Services.AddSingleton<Orleans.Trade.Api.Analytics.IStockSnapshots, SqlStockSnapshotStore>();
builder.Services.AddHostedService<Orleans.Trade.Api.Analytics.StockSnapshotter>();
builder.Services.AddSingleton<Orleans.Trade.Api.Analytics.IExperimentExposures, SqlExperimentStore>();
builder.Services.AddSingleton<Orleans.Trade.Api.Analytics.IMarketingAnalytics, SqlMarketingStore>();
builder.Services.Configure<Orleans.Trade.Inventory.InventoryOptions>(builder.Configuration.GetSection("Inventory"));
builder.Services.AddTradeOrders(builder.Configuration);
builder.Services.AddRiskScoring(builder.Configuration);
builder.Services.ValidateOnStartBy<Orleans.Trade.Risk.RiskOptions>(o => o.Problem());
builder.Services.AddSingleton<Orleans.Trade.Risk.CachedRiskPolicy>();
builder.Services.AddSingleton<Orleans.Trade.Risk.IRiskPolicyCache>(sp => sp.GetRequiredService<Orleans.Trade.Risk.CachedRiskPolicy>());
builder.Services.AddSingleton<Orleans.Trade.Risk.RiskAssessor>();
builder.Services.AddSingleton<SqlRiskReviewStore>();
builder.Services.AddSingleton<Orleans.Trade.Risk.IRiskReviewSink>(sp => sp.GetRequiredService<SqlRiskReviewStore>());
builder.Services.AddSingleton<Orleans.Trade.Api.Risk.IRiskReviewQueries>(sp => sp.GetRequiredService<SqlRiskReviewStore>());
builder.Services.AddSandboxPaymentProvider(builder.Configuration);
builder.Services.AddHealthChecks().AddCheck<StorageHealthCheck>("storage", tags: ["ready"]);
builder.Services.AddGracefulShutdown(builder.Configuration);
builder.AddTradeTelemetry();

var app = builder.Build();
if (cardKeyForThisSiloOnly)
{
    app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Orleans.Trade.Payments")
        .LogWarning("Payments:CardFingerprintKey is not set: card fingerprints use a key that lives only as long as this silo.");
}
var failedKeys = app.Services.GetRequiredService<Orleans.Trade.Api.Auth.FailedAuthentications>();
StorageInstruments.Meter.CreateObservableCounter("trade.auth.lookups_refused", () => failedKeys.Refused, "{request}",
    "Requests refused (429) before their API key was looked up: their client address had failed too many keys (RateLimits:FailedAuthentications*).");
var rateLimits = app.Services.GetRequiredService<Orleans.Trade.Api.Common.RateLimits>();
StorageInstruments.Meter.CreateObservableCounter("trade.rate_limit.lease_failures", () => rateLimits.Quotas.LeaseFailures, "{lease}",
    "Cluster-wide request budgets this silo could not lease in time; their callers were counted by this silo alone for a while.");
app.UseTradeApi();
app.MapTradeApi();
app.MapTradeOperations();
app.MapSandboxPsp(builder.Configuration);
await SiloCommands.PrintAdminKeyHintAsync(app);
await app.RunAsync();
return 0;

/// <summary>Entry point type, visible to tests.</summary>
public partial class Program;
