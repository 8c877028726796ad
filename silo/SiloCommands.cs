using Orleans.Trade.Api.Auth;
using Orleans.Trade.Silo.Storage;

namespace Orleans.Trade.Silo;

/// <summary>The silo's command-line verbs besides running.</summary>
public static class SiloCommands
{
    public static async Task<int> MigrateAsync(WebApplicationBuilder builder)
    {
        await using var services = builder.Services.BuildServiceProvider();
        var applied = await services.GetRequiredService<SchemaMigrator>().MigrateAsync();
        Console.WriteLine(applied.Count == 0 ? "Schema already up to date." : $"Applied schema versions: {string.Join(", ", applied)}.");
        return 0;
    }

    public static async Task MigrateBeforeStartAsync(WebApplicationBuilder builder)
    {
        await using var services = builder.Services.BuildServiceProvider();
        await services.GetRequiredService<SchemaMigrator>().MigrateAsync();
    }

    /// <summary><c>api-keys create --role admin [--subject S] [--name N]</c>: prints the new key once on standard output.</summary>
    public static async Task<int> ApiKeysAsync(WebApplicationBuilder builder, string[] args)
    {
        if (args.Length == 0 || args[0] != "create")
        {
            await Console.Error.WriteLineAsync("Usage: api-keys create --role <admin|seller|buyer|analyst|erp> [--subject <id>] [--name <text>]");
            return 2;
        }
        var role = builder.Configuration["role"];
        var subject = builder.Configuration["subject"];
        if (role is null || !Roles.All.Contains(role) || (Roles.RequiresSubject(role) && subject is null))
        {
            await Console.Error.WriteLineAsync($"--role must be one of {string.Join(", ", Roles.All)}; seller, buyer and erp keys need --subject.");
            return 2;
        }
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IApiKeyStore, SqlApiKeyStore>();
        builder.Services.AddSingleton<ApiKeyIssuer>();
        await using var services = builder.Services.BuildServiceProvider();
        await services.GetRequiredService<SchemaMigrator>().MigrateAsync();
        var created = await services.GetRequiredService<ApiKeyIssuer>().IssueAsync(role, subject, builder.Configuration["name"], CancellationToken.None);
        Console.WriteLine($"Key id: {created.KeyId} (role {created.Role}{(created.Subject is null ? "" : ", subject " + created.Subject)})");
        Console.WriteLine("API key (shown once, store it now; send it as the X-Api-Key header):");
        Console.WriteLine(created.ApiKey);
        return 0;
    }

    public static async Task PrintAdminKeyHintAsync(WebApplication app)
    {
        if (!string.IsNullOrEmpty(app.Configuration["Auth:BootstrapAdminKey"]))
        {
            return;
        }
        if (await app.Services.GetRequiredService<SqlApiKeyStore>().AnyActiveAdminAsync(CancellationToken.None))
        {
            return;
        }
        app.Logger.LogWarning(
            "No admin API key exists yet. Issue one with `dotnet run --project silo -- api-keys create --role admin` " +
            "(it prints the key once), or start with Auth__BootstrapAdminKey set to a secret of your choice.");
    }
}
