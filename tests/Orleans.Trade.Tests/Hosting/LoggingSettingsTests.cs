using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Hosting;

/// <summary>
/// The silo's shipped log levels. ASP.NET Core's hosting starts an <c>Activity</c> and a logging scope for every request while
/// its own category (<c>Microsoft.AspNetCore.Hosting.Diagnostics</c>: request started/finished lines) logs at any level, even
/// with tracing off; the silo turns that category off (about 1% of a hot checkout's CPU and 0.9 KB of its allocations), and
/// keeps every other ASP.NET Core warning and error. Orleans' categories log warnings, ours (<c>Orleans.Trade.*</c>) information.
/// </summary>
public sealed class LoggingSettingsTests
{
    [Fact]
    public void The_shipped_settings_turn_off_per_request_hosting_logs_and_keep_warnings_and_errors()
    {
        var settings = Path.Combine(Path.GetDirectoryName(RepoPaths.SiloDll)!, "appsettings.json");
        var configuration = new ConfigurationBuilder().AddJsonFile(settings).Build();
        using var factory = LoggerFactory.Create(b => b.AddConfiguration(configuration.GetSection("Logging")).AddProvider(new EverythingProvider()));

        Assert.False(factory.CreateLogger("Microsoft.AspNetCore.Hosting.Diagnostics").IsEnabled(LogLevel.Critical));
        Assert.True(factory.CreateLogger("Microsoft.AspNetCore.Server.Kestrel").IsEnabled(LogLevel.Warning));
        Assert.False(factory.CreateLogger("Microsoft.AspNetCore.Server.Kestrel").IsEnabled(LogLevel.Information));
        Assert.True(factory.CreateLogger("Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddleware").IsEnabled(LogLevel.Error));
        Assert.True(factory.CreateLogger("Microsoft.AspNetCore.Hosting.Lifetime").IsEnabled(LogLevel.Warning));
        // Orleans' own categories log warnings; ours, which share the "Orleans." prefix, keep their information lines.
        Assert.False(factory.CreateLogger("Orleans.Runtime.Catalog").IsEnabled(LogLevel.Information));
        Assert.True(factory.CreateLogger("Orleans.Runtime.Catalog").IsEnabled(LogLevel.Warning));
        Assert.True(factory.CreateLogger("Orleans.Runtime.Silo").IsEnabled(LogLevel.Information));
        Assert.True(factory.CreateLogger("Orleans.Trade.Payments").IsEnabled(LogLevel.Information));
        Assert.True(factory.CreateLogger("Orleans.Trade.Silo.Storage.SchemaMigrator").IsEnabled(LogLevel.Information));
    }

    /// <summary>A provider whose loggers would write everything, so only the configured filters decide.</summary>
    private sealed class EverythingProvider : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Everything();

        public void Dispose()
        {
        }

        private sealed class Everything : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
            }
        }
    }
}
