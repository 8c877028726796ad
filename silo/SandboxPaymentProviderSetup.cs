using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using Orleans.Trade.Payments;
using Orleans.Trade.Payments.Sandbox;

namespace Orleans.Trade.Silo;

/// <summary>The payment provider of the silo: the sandbox (its server grains and our adapter), unless another is configured.</summary>
public static class SandboxPaymentProviderSetup
{
    public static IServiceCollection AddSandboxPaymentProvider(this IServiceCollection services, IConfiguration configuration)
    {
        if (!string.Equals(configuration["Payments:Provider"] ?? "sandbox", "sandbox", StringComparison.OrdinalIgnoreCase))
        {
            // The sandbox is the only provider this build has: another name (a typo) would start a silo every payment fails on.
            throw new InvalidOperationException(
                $"Payments:Provider is '{configuration["Payments:Provider"]}'; this build has one payment provider, 'sandbox'.");
        }
        services.Configure<SandboxPspOptions>(configuration.GetSection(SandboxPspOptions.Section));
        services.PostConfigure<SandboxPspOptions>(options =>
        {
            options.ApiKey = string.IsNullOrEmpty(options.ApiKey) ? RandomSecret() : options.ApiKey;
            options.WebhookSecret = string.IsNullOrEmpty(options.WebhookSecret) ? RandomSecret() : options.WebhookSecret;
        });
        services.AddOptions<SandboxPspOptions>()
            .Validate(options => Acceptable(options.ApiKey) && Acceptable(options.WebhookSecret),
                $"{SandboxPspOptions.Section}:ApiKey and :WebhookSecret must be at least 16 characters and not a placeholder (\"change-me\"): " +
                "anyone who knows them can mark payments received. Leave both unset for random ones, or set the same values on every process of a sandbox run apart.")
            .ValidateOnStart();
        services.AddSingleton<ISelfHttpAddress, ServerSelfHttpAddress>();
        services.AddHttpClient<SandboxWebhookSender>();
        services.AddHttpClient<IPaymentProvider, SandboxPaymentProvider>((http, sp) => new SandboxPaymentProvider(
            http, sp.GetRequiredService<IOptions<SandboxPspOptions>>().Value, sp.GetRequiredService<ISelfHttpAddress>()));
        return services;
    }

    private static string RandomSecret() => Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    /// <summary>
    /// A shared secret someone could not simply know: at least 16 characters and not a placeholder ("change-me"). Also the rule
    /// for <c>Notifications:SigningSecret</c>.
    /// </summary>
    public static bool Acceptable(string secret) =>
        secret.Length >= 16 && !secret.Contains("change-me", StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// The silo's own base URL from the addresses Kestrel listens on (a plain-http one first, never the metrics port, which serves
/// nothing else); a wildcard host becomes 127.0.0.1.
/// </summary>
public sealed class ServerSelfHttpAddress(IServer server, IConfiguration configuration) : ISelfHttpAddress
{
    private Uri? _resolved;

    public Uri BaseUrl => _resolved ??= Resolve();

    private Uri Resolve()
    {
        var metrics = SiloConfiguration.MetricsPort(configuration);
        var addresses = (server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [])
            .Where(a => metrics is not { } port || !a.TrimEnd('/').EndsWith($":{port}", StringComparison.Ordinal)).ToArray();
        var address = addresses.FirstOrDefault(a => a.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) ?? addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("The server listens on no address yet.");
        var uri = new UriBuilder(address.Replace("://+", "://127.0.0.1").Replace("://*", "://127.0.0.1"));
        if (uri.Host is "0.0.0.0" or "[::]" or "::")
        {
            uri.Host = "127.0.0.1";
        }
        uri.Path = "/";
        return uri.Uri;
    }
}
