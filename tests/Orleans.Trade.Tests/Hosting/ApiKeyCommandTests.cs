using System.Net;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Hosting;

/// <summary>The embedded default's way to a first admin key: <c>silo -- api-keys create --role admin</c>, then use it.</summary>
public sealed class ApiKeyCommandTests
{
    [Fact]
    public async Task The_command_prints_a_key_once_that_then_authenticates_as_admin()
    {
        var path = Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db");
        var output = await CommandRunner.RunAsync("dotnet", [RepoPaths.SiloDll, "api-keys", "create", "--role", "admin", "--name", "ops"],
            new Dictionary<string, string> { ["Storage__SqlitePath"] = path }, TimeSpan.FromMinutes(2));
        var key = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()).Single(l => l.StartsWith("otk_"));

        await using var silo = new SiloProcess(SiloStorage.Sqlite(path), "cli-" + Guid.NewGuid().ToString("N")[..8]);
        silo.ExtraEnvironment["Auth__BootstrapAdminKey"] = ""; // only the stored key may work
        await silo.StartAsync();
        using var admin = silo.CreateClient(key);
        var (status, _) = await admin.PostJsonAsync("/api/v1/api-keys", new { role = "analyst", name = "issued by the CLI admin" });
        Assert.Equal(HttpStatusCode.Created, status);
        using var bootstrap = silo.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await bootstrap.GetJsonAsync("/api/v1/warehouses")).Status);
    }
}
