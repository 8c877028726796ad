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
using Orleans.Runtime.Hosting;
using Orleans.Trade.Api.Payments;
using Orleans.Trade.Common;
using Orleans.Trade.Orders;
using Orleans.Trade.Wallets;
using Orleans.Trade.Silo.Storage;

namespace Orleans.Trade.Silo;

/// <summary>Orleans, telemetry and operations endpoints: the only place that knows providers and connection strings.</summary>
public static class SiloConfiguration
{
    /// <summary>Grain classes with one activation per checkout; they are collected after 30 idle seconds unless configured.</summary>
    public static readonly Type[] PerCheckoutGrainClasses =
        [typeof(Orders.OrderGrain), typeof(Payments.PaymentGrain), typeof(Payments.Sandbox.SandboxPspPaymentGrain), typeof(Orders.CheckoutGrain)];

    public static ISiloBuilder ConfigureTradeSilo(this ISiloBuilder silo, IConfiguration configuration, TradeDatabase database)
    {
        var orleans = configuration.GetSection("Orleans");
        var clusterId = orleans["ClusterId"] ?? "orleans-trade";
        var serviceId = orleans["ServiceId"] ?? "orleans-trade";
        var siloPort = orleans.GetValue("SiloPort", 11111);
        var gatewayPort = orleans.GetValue("GatewayPort", 30000);

        var kubernetes = orleans.GetValue("Kubernetes", false);
        if (kubernetes && database.Provider != StorageProvider.Postgres)
        {
            throw new InvalidOperationException("Orleans:Kubernetes=true needs Storage:Provider=postgres: the silos of a Deployment share membership in PostgreSQL.");
        }
        if (database.Provider == StorageProvider.Postgres)
        {
            silo.Configure<ClusterOptions>(o => { o.ClusterId = clusterId; o.ServiceId = serviceId; });
            if (kubernetes)
            {
                // Orleans' Kubernetes hosting names the silo after POD_NAME, listens on every address and watches the pods, so a
                // deleted pod's silo is declared dead at once; membership stays in PostgreSQL. It advertises POD_IP only when no
                // address is set, but EndpointOptions already holds one resolved from the host name: set POD_IP ourselves.
                var podIp = configuration["POD_IP"];
                silo.Configure<EndpointOptions>(o =>
                {
                    o.SiloPort = siloPort;
                    o.GatewayPort = gatewayPort;
                    if (!string.IsNullOrWhiteSpace(podIp))
                    {
                        o.AdvertisedIPAddress = IPAddress.Parse(podIp);
                    }
                });
                silo.UseKubernetesHosting();
            }
            else
            {
                var advertised = IPAddress.Parse(orleans["AdvertisedIP"] ?? "127.0.0.1");
                silo.ConfigureEndpoints(advertised, siloPort, gatewayPort, listenOnAnyHostAddress: orleans.GetValue("ListenOnAnyHostAddress", false));
            }
            silo.UseAdoNetClustering(o => { o.Invariant = database.Invariant; o.ConnectionString = database.ConnectionString; });
        }
        else
        {
            // The embedded default is a single silo; membership needs no database.
            silo.UseLocalhostClustering(siloPort, gatewayPort, serviceId: serviceId, clusterId: clusterId);
        }
        // Grain state: our batched storage (many grains per commit) with the deadline index beside each state.
        silo.Services.AddSingleton(_ =>
        {
            var marks = new NewGrainIds();
            StorageInstruments.Meter.CreateObservableGauge("trade.storage.new_grain_marks", () => marks.Count, "{grain}",
                "Grains minted on this silo whose first call has not returned yet (their first activation here skips its read).");
            return marks;
        });
        silo.Services.AddSingleton<INewGrainMarks>(services => services.GetRequiredService<NewGrainIds>());
        silo.Services.AddSingleton(_ =>
        {
            var asking = new Orleans.Trade.Payments.PaymentsAsking();
            StorageInstruments.Meter.CreateObservableGauge("trade.payments.kept_asking", () => asking.Kept, "{payment}",
                "Payments kept in memory past their idle age while they ask a provider that has not answered (at most Payments:MaxKeptAsking).");
            return asking;
        });
        silo.Services.AddSingleton<BatchedGrainStorage>();
        silo.Services.AddGrainStorage(StorageNames.Trade, (sp, _) => sp.GetRequiredService<BatchedGrainStorage>());
        silo.Services.AddSingleton<IDeadlineIndex>(sp => sp.GetRequiredService<BatchedGrainStorage>());
        silo.Services.AddSingleton(sp =>
        {
            var mover = ActivatorUtilities.CreateInstance<WakeIndexMover>(sp);
            StorageInstruments.Meter.CreateObservableCounter("trade.deadlines.wake_moves", () => mover.Moved, "{row}",
                "Wake times moved on by their grains once a write's follow-up calls were done (no state write, no sweeper visit).");
            StorageInstruments.Meter.CreateObservableCounter("trade.deadlines.wake_moves_lost", () => mover.Lost, "{row}",
                "Wake-time moves dropped or not stored; the deadline sweeper wakes those grains instead.");
            return mover;
        });
        silo.Services.Configure<DeadlineSweepOptions>(configuration.GetSection("Deadlines"));
        // Unless set, the sweep runs as often as order deadlines were checked (Orders:DeadlineCheckPeriod).
        if (configuration["Deadlines:Period"] is null && configuration["Orders:DeadlineCheckPeriod"] is not null)
        {
            silo.Services.Configure<DeadlineSweepOptions>(o => o.Period = configuration.GetValue<TimeSpan>("Orders:DeadlineCheckPeriod"));
        }
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, DeadlineSweeperStarter>();
        silo.UseAdoNetReminderService(o => { o.Invariant = database.Invariant; o.ConnectionString = database.ConnectionString; });
        // Order deadline reminders tick at Orders:DeadlineCheckPeriod; below Orleans' one-minute floor only when configured so.
        var shortest = new[]
        {
            configuration.GetValue("Orders:DeadlineCheckPeriod", TimeSpan.FromMinutes(1)),
            configuration.GetValue("Settlement:MaturityCheckPeriod", TimeSpan.FromHours(1)),
        }.Min();
        silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = shortest < o.MinimumReminderPeriod ? shortest : o.MinimumReminderPeriod);
        // Idle grains leave memory after Orleans:GrainCollection:CollectionAge (default 2 minutes: a flash sale creates an order
        // activation per checkout), and sooner under memory pressure: above MemoryUsageLimitPercentage of the memory the GC may use
        // (the container's limit under Kubernetes) the silo sheds activations until it is back under MemoryUsageTargetPercentage.
        // The grains a checkout creates one of each (order, payment, and the sandbox PSP's payment) leave after 30 idle seconds
        // instead: at a few thousand checkouts a second, two minutes of them is most of a silo's memory, and what comes next to
        // an order (payment webhooks, a buyer's reload) comes within seconds or after many minutes. The collector looks every 10 s.
        silo.Configure<GrainCollectionOptions>(o =>
        {
            o.CollectionAge = TimeSpan.FromMinutes(2);
            o.CollectionQuantum = TimeSpan.FromSeconds(10);
            foreach (var perCheckout in PerCheckoutGrainClasses)
            {
                o.ClassSpecificCollectionAge[perCheckout.FullName!] = TimeSpan.FromSeconds(30);
            }
            // A request budget (one per limited buyer) as well: by then it has refilled 30 s of its rate, its whole burst by default.
            o.ClassSpecificCollectionAge[typeof(Orleans.Trade.Common.RequestQuotaGrain).FullName!] = TimeSpan.FromSeconds(30);
            o.EnableActivationSheddingOnMemoryPressure = true;
            o.MemoryUsageLimitPercentage = 80;
            o.MemoryUsageTargetPercentage = 70;
            orleans.GetSection("GrainCollection").Bind(o);
        });
        // Each silo caches where grains live (an LRU cache of grain addresses, about 300 bytes an entry). Orleans keeps up to
        // 1,000,000 by default, and every order and payment a sale creates leaves one behind after it is collected: a paid
        // sale of 134,000 orders held 269,000 entries, about 81 MB. 100,000 (Orleans:DirectoryCacheSize) holds the grains
        // in use many times over (a checkout's grains are done within seconds) and bounds the cache at about 30 MB. The key is
        // not under Orleans:GrainDirectory, which Orleans reads as named directory providers.
        silo.Configure<GrainDirectoryOptions>(o => o.CacheSize = orleans.GetValue("DirectoryCacheSize", 100_000));
        silo.AddIncomingGrainCallFilter<StorageFailureCallFilter>();
        CachedGrainInterfaceTypes.AddTo(silo.Services);
        // Failure detection: Orleans' defaults unless Orleans:ClusterMembership:* is set (e.g. ProbeTimeout, NumMissedProbesLimit).
        silo.Configure<ClusterMembershipOptions>(orleans.GetSection("ClusterMembership"));
        // Grain-call spans only when traces go somewhere: with no exporter they are pure cost on every call.
        if (TracingEnabled(configuration))
        {
            silo.AddActivityPropagation();
        }
        // The Orleans dashboard collects every Orleans metric each second (about 5% of a silo's CPU under a flash sale, more
        // with many activations) and its page has no login: an operator turns it on where the network already keeps it private.
        if (DashboardEnabled(configuration))
        {
            silo.AddDashboard();
        }
        return silo;
    }

    /// <summary>The operators' dashboard at <c>/dashboard</c>: off unless <c>Dashboard:Enabled=true</c>.</summary>
    public static bool DashboardEnabled(IConfiguration configuration) => configuration.GetValue("Dashboard:Enabled", false);

    /// <summary>
    /// Traces are recorded when an OTLP endpoint takes them (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>), or when
    /// <c>Telemetry:Tracing</c> says so explicitly.
    /// </summary>
    public static bool TracingEnabled(IConfiguration configuration) =>
        configuration.GetValue<bool?>("Telemetry:Tracing") ?? !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);

    /// <summary>
    /// The business clock. <c>Clock:AllowTestControl=true</c> (tests only) lets <c>Clock:OffsetSeconds</c> and the admin clock
    /// endpoint run business time ahead; otherwise it is the system clock.
    /// </summary>
    public static TradeClock CreateTradeClock(IConfiguration configuration)
    {
        var clock = new TradeClock(TimeProvider.System);
        if (configuration.GetValue("Clock:AllowTestControl", false))
        {
            clock.Advance(TimeSpan.FromSeconds(configuration.GetValue("Clock:OffsetSeconds", 0.0)));
        }
        return clock;
    }

    /// <summary>
    /// Binds <typeparamref name="TOptions"/> to <paramref name="section"/>, a configured list replacing the one the options start
    /// with. The configuration binder appends a configured array to a property's initial value: Payments:InstalmentCounts [3, 6]
    /// offered 3, 6, 12, 3 and 6 parts, and Orders:NotificationChannels ["email"] listed email, sms, push and email.
    /// </summary>
    public static IServiceCollection ConfigureReplacingLists<TOptions>(this IServiceCollection services, IConfigurationSection section)
        where TOptions : class =>
        services.Configure<TOptions>(options =>
        {
            foreach (var property in typeof(TOptions).GetProperties())
            {
                if (property.PropertyType.IsArray && property.CanWrite && section.GetSection(property.Name).GetChildren().Any())
                {
                    property.SetValue(options, Array.CreateInstance(property.PropertyType.GetElementType()!, 0));
                }
            }
            section.Bind(options);
        });

    /// <summary>
    /// Refuses to start while <paramref name="problem"/> finds something wrong with the bound <typeparamref name="TOptions"/>, with
    /// its words as the reason (a fixed message would not say which setting, or why).
    /// </summary>
    public static IServiceCollection ValidateOnStartBy<TOptions>(this IServiceCollection services, Func<TOptions, string?> problem)
        where TOptions : class
    {
        services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<TOptions>>(new ProblemValidation<TOptions>(problem));
        services.AddOptions<TOptions>().ValidateOnStart();
        return services;
    }

    private sealed class ProblemValidation<TOptions>(Func<TOptions, string?> problem) : Microsoft.Extensions.Options.IValidateOptions<TOptions>
        where TOptions : class
    {
        public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, TOptions options) =>
            problem(options) is { } reason ? Microsoft.Extensions.Options.ValidateOptionsResult.Fail(reason) : Microsoft.Extensions.Options.ValidateOptionsResult.Success;
    }

    /// <summary>Order deadlines, allocation regions, exchange rates and the notification outbox worker.</summary>
    public static IServiceCollection AddTradeOrders(this IServiceCollection services, IConfiguration configuration)
    {
        services.ConfigureReplacingLists<OrderOptions>(configuration.GetSection("Orders"));
        services.ValidateOnStartBy<OrderOptions>(o => o.Problem());
        services.ConfigureReplacingLists<DisputeOptions>(configuration.GetSection("Disputes"));
        services.ValidateOnStartBy<DisputeOptions>(o => o.Problem());
        services.Configure<AllocationOptions>(configuration.GetSection("Allocation"));
        services.ValidateOnStartBy<AllocationOptions>(o => o.Problem());
        // Built once: configuration overlaid on the default region table (validated at start-up, not per order).
        services.AddSingleton(sp => sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<AllocationOptions>>().Value.ToRegionMap());
        services.AddSingleton<Orleans.Trade.Inventory.CachedWarehouses>();
        services.AddSingleton<Orleans.Trade.Logistics.CachedShippingTemplates>();
        services.AddSingleton<Orleans.Trade.Logistics.CachedCarrierCatalog>();
        // R-LOG-4, R-ROLE-3: labels booked through each carrier's adapter; a carrier's secret stays in configuration.
        services.Configure<Orleans.Trade.Logistics.LabelOptions>(configuration.GetSection("Labels"));
        services.ValidateOnStartBy<Orleans.Trade.Logistics.LabelOptions>(o => o.Problem());
        services.AddSingleton<Orleans.Trade.Logistics.PlatformCarrierAdapter>();
        services.AddSingleton(sp => new Orleans.Trade.Logistics.CarrierAdapters(sp.GetRequiredService<Orleans.Trade.Logistics.PlatformCarrierAdapter>(),
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<Orleans.Trade.Logistics.LabelOptions>>(),
            new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan }));
        services.AddSingleton<Orleans.Trade.Inventory.CachedSkuAvailability>();
        services.Configure<NotificationOptions>(configuration.GetSection("Notifications"));
        services.AddOptions<NotificationOptions>()
            .Validate(o => string.IsNullOrEmpty(o.SigningSecret) || SandboxPaymentProviderSetup.Acceptable(o.SigningSecret),
                "Notifications:SigningSecret must be at least 16 characters and not a placeholder (\"change-me\"): receivers trust what it signs.")
            .ValidateOnStart();
        // R-PAY-4: no notification webhook that would carry buyers' order data in the clear off this machine.
        services.ValidateOnStartBy<NotificationOptions>(o => o.WebhookUrlProblem());
        var rates = ConfiguredFxRates.WithConfigured(configuration.GetSection("Fx:UsdRates").GetChildren().Select(r => KeyValuePair.Create(r.Key, r.Value)));
        services.AddSingleton(sp =>
        {
            var clock = sp.GetRequiredService<TradeClock>();
            var cached = new CachedFxRates(new ConfiguredFxRates(rates, clock.GetUtcNow()));
            // What an operator alerts on before Orders:FxRateMaxAge starts refusing checkouts: no series until a table is loaded.
            StorageInstruments.Meter.CreateObservableGauge("trade.fx.rate_table_age",
                () => cached.Table is { } table ? [new System.Diagnostics.Metrics.Measurement<double>((clock.GetUtcNow() - table.AsOf).TotalSeconds)] : Array.Empty<System.Diagnostics.Metrics.Measurement<double>>(),
                "s", "How old this silo's loaded exchange-rate table is (its asOf to now).");
            return cached;
        });
        services.AddSingleton<IFxRates>(sp => sp.GetRequiredService<CachedFxRates>());
        services.AddSingleton<Orleans.Trade.Payments.IFxRateTableCache>(sp => sp.GetRequiredService<CachedFxRates>());
        services.AddHostedService<FxRatesRefresher>();
        // R-DAT-1: the sales monitor's anomaly rules, checked at start-up.
        services.Configure<Orleans.Trade.Analytics.SalesAnomalyOptions>(configuration.GetSection("Analytics"));
        services.ValidateOnStartBy<Orleans.Trade.Analytics.SalesAnomalyOptions>(o => o.Problem());
        services.AddHttpClient(nameof(NotificationDispatcher), c => c.Timeout = NotificationOptions.SendTimeout);
        services.AddHostedService<NotificationDispatcher>();
        return services;
    }

    /// <summary>
    /// The key of card fingerprints: <c>Payments:CardFingerprintKey</c> (base64, 32 bytes) when set. Otherwise the
    /// embedded default keeps a generated key in a file beside its database (mode 0600), and a PostgreSQL silo uses a key for
    /// its lifetime only (<paramref name="forThisSiloOnly"/>; the caller warns), since fingerprints then differ between silos
    /// and restarts. Built before the silo starts, so a key that cannot be used refuses the start rather than every card.
    /// </summary>
    public static CardFingerprintKey CreateCardFingerprintKey(IConfiguration configuration, TradeDatabase database, out bool forThisSiloOnly)
    {
        var key = ConfiguredOrFileKey(configuration, "Payments:CardFingerprintKey", database, "card-fingerprint.key");
        forThisSiloOnly = key is null;
        return new CardFingerprintKey(key ?? System.Security.Cryptography.RandomNumberGenerator.GetBytes(KeyBytes));
    }

    /// <summary>
    /// The key that seals secrets at rest (TOTP seeds): <c>Security:SecretsKey</c> (base64, 32 bytes). The embedded default keeps
    /// a generated key in a file beside its database; a PostgreSQL silo without the setting refuses to start, since sealed
    /// secrets must open on every silo and after every restart.
    /// </summary>
    public static SecretBox CreateSecretBox(IConfiguration configuration, TradeDatabase database) =>
        new(ConfiguredOrFileKey(configuration, "Security:SecretsKey", database, "secrets.key")
            ?? throw new InvalidOperationException("Set Security:SecretsKey (base64, 32 bytes) to run on PostgreSQL: it seals TOTP secrets."));

    private const int KeyBytes = 32;

    private static byte[]? ConfiguredOrFileKey(IConfiguration configuration, string setting, TradeDatabase database, string fileName)
    {
        if (configuration[setting] is { Length: > 0 } configured)
        {
            var key = new byte[configured.Length];
            return Convert.TryFromBase64String(configured, key, out var length) && length == KeyBytes
                ? key[..KeyBytes]
                : throw new InvalidOperationException($"{setting} must be {KeyBytes} bytes, base64-encoded.");
        }
        if (database.SqlitePath is not { } dbPath)
        {
            return null;
        }
        var path = Path.Combine(Path.GetDirectoryName(dbPath)!, fileName);
        if (!File.Exists(path))
        {
            WriteNewKeyFile(path);
        }
        var stored = File.ReadAllBytes(path);
        // A start cut short between creating a key file and writing it (before keys went through a temporary file) left it
        // empty: nothing could be sealed and card fingerprints were a plain hash of the number. Any other length stops the start.
        return stored.Length == KeyBytes
            ? stored
            : throw new InvalidOperationException(
                $"{path} holds {stored.Length} bytes, not a {KeyBytes}-byte key for {setting}. Put back the file from a backup, or set "
                + $"{setting}; if it is empty because the silo's first start was cut short, delete it and a new key is made (sealed "
                + "TOTP secrets or card fingerprints made with another key then no longer open or match).");
    }

    /// <summary>
    /// Writes a new random key to a temporary file beside <paramref name="path"/>, flushed to disk, and only then moves it into
    /// place, so a start that dies half way leaves no short key file behind. When another process made the key first, its key
    /// stays and is the one read.
    /// </summary>
    private static void WriteNewKeyFile(string path)
    {
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }
            using (var file = new FileStream(temporary, options))
            {
                file.Write(System.Security.Cryptography.RandomNumberGenerator.GetBytes(KeyBytes));
                file.Flush(flushToDisk: true);
            }
            try
            {
                File.Move(temporary, path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another silo on the same folder won the race: its key is the one both use.
            }
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>
    /// Buckets (seconds) of <c>http.server.request.duration</c> on <c>/metrics</c>: ASP.NET Core advises 5, 10, 25, 50, 75, 100
    /// ms …, too coarse where checkout latency is judged (a 50 ms p99); these resolve 1 ms to 10 s, finest from 10 to 100 ms.
    /// </summary>
    public static IReadOnlyList<double> RequestDurationBoundaries { get; } =
        [0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.06, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2.5, 5, 10];

    /// <summary>
    /// ASP.NET Core instruments updated on every request or every buffer a connection rents, left out of <c>/metrics</c> unless
    /// <c>Telemetry:DetailedAspNetCoreMetrics</c> is on: Kestrel's memory pool, route matching, and authentication and
    /// authorization (their outcomes show as 401/403 in <c>http.server.request.duration</c>). Dropped, no listener enables
    /// them and ASP.NET Core skips their work: about 1.5% of a hot checkout's CPU in the silo. Request durations, active
    /// requests, connections, exceptions, runtime, Orleans, Npgsql and the trade instruments stay.
    /// </summary>
    public static bool IsDetailedAspNetCoreInstrument(string name) =>
        name.StartsWith("aspnetcore.memory_pool.", StringComparison.Ordinal)
        || name.StartsWith("aspnetcore.routing.", StringComparison.Ordinal)
        || name.StartsWith("aspnetcore.authentication.", StringComparison.Ordinal)
        || name.StartsWith("aspnetcore.authorization.", StringComparison.Ordinal);

    public static WebApplicationBuilder AddTradeTelemetry(this WebApplicationBuilder builder)
    {
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("orleans-trade", serviceInstanceId: Environment.MachineName + ":" + Environment.ProcessId));
        if (TracingEnabled(builder.Configuration))
        {
            otel.WithTracing(t => t
                .AddAspNetCoreInstrumentation(o => o.Filter = ctx => !ctx.Request.Path.StartsWithSegments("/metrics") && !ctx.Request.Path.StartsWithSegments("/health"))
                .AddSource("Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application")
                .AddNpgsql());
        }
        var detailed = builder.Configuration.GetValue("Telemetry:DetailedAspNetCoreMetrics", false);
        otel.WithMetrics(m => m
                .AddAspNetCoreInstrumentation()
                .AddView("http.server.request.duration", new ExplicitBucketHistogramConfiguration { Boundaries = [.. RequestDurationBoundaries] })
                .AddView(instrument => !detailed && IsDetailedAspNetCoreInstrument(instrument.Name) ? MetricStreamConfiguration.Drop : null)
                .AddRuntimeInstrumentation()
                .AddMeter("Microsoft.Orleans", "Npgsql", "Orleans.Trade.Storage", "Orleans.Trade.Analytics")
                .AddPrometheusExporter());
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            otel.UseOtlpExporter();
        }
        return builder;
    }

    /// <summary>
    /// SIGTERM: readiness fails at once, Kestrel lets in-flight requests finish, then the silo deactivates its grains and
    /// leaves the cluster, all within <c>Shutdown:TimeoutSeconds</c> (default 30).
    /// </summary>
    public static IServiceCollection AddGracefulShutdown(this IServiceCollection services, IConfiguration configuration)
    {
        var timeoutSeconds = configuration.GetValue("Shutdown:TimeoutSeconds", 30);
        if (timeoutSeconds is < 1 or > 600)
        {
            throw new InvalidOperationException($"Shutdown:TimeoutSeconds must be between 1 and 600; got {timeoutSeconds}.");
        }
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(timeoutSeconds));
        services.AddHealthChecks().AddCheck<ShutdownHealthCheck>("shutdown", tags: ["ready"]);
        return services;
    }

    /// <summary><c>Metrics:Port</c>: the port /metrics is served on, alone; null when not set (then loopback callers only).</summary>
    public static int? MetricsPort(IConfiguration configuration) =>
        configuration.GetValue<int?>("Metrics:Port") switch
        {
            null => null,
            >= 1 and <= 65535 and var port => port,
            var port => throw new InvalidOperationException($"Metrics:Port must be a TCP port (1-65535); got {port}."),
        };

    /// <summary>
    /// The addresses Kestrel listens on: <c>urls</c> (ASPNETCORE_URLS), by default http://127.0.0.1:5080, plus Metrics:Port on
    /// the first one's host. Null when Kestrel:Endpoints declares them (then the metrics port must be one of them).
    /// </summary>
    public static string[]? ListenUrls(IConfiguration configuration)
    {
        if (configuration.GetSection("Kestrel:Endpoints").Exists())
        {
            return null;
        }
        var configured = (configuration["urls"] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var urls = configured.Length > 0 ? configured : ["http://127.0.0.1:5080"];
        if (MetricsPort(configuration) is not { } port)
        {
            return configured.Length > 0 ? null : urls;
        }
        // "http://0.0.0.0:8080", "http://+:8080", "http://[::]:8080": the host is what lies between "://" and the last ':'.
        var first = urls[0];
        var hostStart = first.IndexOf("://", StringComparison.Ordinal) + 3;
        var host = first[hostStart..first.LastIndexOf(':')];
        var metrics = $"http://{host}:{port}";
        if (urls.Any(u => u.TrimEnd('/').EndsWith($":{port}", StringComparison.Ordinal)))
        {
            throw new InvalidOperationException($"Metrics:Port {port} is also a port of urls ({string.Join(';', urls)}): give /metrics a port of its own.");
        }
        return [.. urls, metrics];
    }

    /// <summary>A scrape from this machine: a loopback connection carrying no proxy's forwarding header.</summary>
    private static bool LocalScrape(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } address && IPAddress.IsLoopback(address)
        && !context.Request.Headers.ContainsKey("X-Forwarded-For") && !context.Request.Headers.ContainsKey("Forwarded");

    public static WebApplication MapTradeOperations(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains("ready"),
            ResultStatusCodes = { [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable },
        });
        // The meters tell anyone who can read them how many orders the platform takes and its GMV (the analytics API keeps
        // those to admins and analysts), so /metrics is never on the public port: it is served on Metrics:Port alone when set
        // (a port the Service does not expose; Prometheus scrapes the pods), and otherwise only to callers on this machine
        // that no proxy forwarded.
        if (MetricsPort(app.Configuration) is { } port)
        {
            // By the port the connection came in on, never the Host header (RequireHost matches that, which any client sets).
            app.Use(async (context, next) =>
            {
                if ((context.Connection.LocalPort == port) != context.Request.Path.Equals("/metrics", StringComparison.Ordinal))
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return;
                }
                await next(context);
            });
            app.MapPrometheusScrapingEndpoint("/metrics", meterProvider: null, configureBranchedPipeline: branch => branch.Use(async (context, next) =>
            {
                if (context.Connection.LocalPort != port)
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return;
                }
                await next(context);
            }), optionsName: null);
        }
        else
        {
            app.MapPrometheusScrapingEndpoint("/metrics", meterProvider: null, configureBranchedPipeline: branch => branch.Use(async (context, next) =>
            {
                if (!LocalScrape(context))
                {
                    await Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Metrics are not served here",
                        detail: "/metrics answers callers on the silo's own machine only (loopback, not forwarded by a proxy). Set Metrics:Port "
                            + "to serve it on a port of its own for Prometheus.").ExecuteAsync(context);
                    return;
                }
                await next(context);
            }), optionsName: null);
        }
        if (DashboardEnabled(app.Configuration))
        {
            // Operators' page, not part of the public API document.
            app.MapOrleansDashboard(routePrefix: "/dashboard").ExcludeFromDescription();
        }
        return app;
    }
}
