using System.Net;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Hosting;

/// <summary>The bootstrap admin key (Auth:BootstrapAdminKey) is for the first steps: once real admin keys exist, it is revoked.</summary>
public sealed class BootstrapKeyRevocationTests
{
    [Fact]
    public async Task A_revoked_bootstrap_key_is_refused_even_when_configured_again_and_a_new_one_lets_an_operator_back_in()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("bootstrap");
        await using var silo = await SiloProcess.StartAsync(SiloStorage.Postgres(connectionString), "bootstrap-" + Guid.NewGuid().ToString("N")[..8]);
        using var bootstrap = silo.CreateClient();
        // Not while it is the only admin key: nobody could administer the platform after.
        var (lockout, problem) = await bootstrap.SendAsync(HttpMethod.Delete, "/api/v1/api-keys/bootstrap");
        Assert.Equal(HttpStatusCode.Conflict, lockout);
        Assert.Contains("Issue an admin key", problem!["detail"]!.GetValue<string>());
        using var admin = silo.CreateClient(await TradeHttp.IssueKeyAsync(bootstrap, "admin", null));
        Assert.Equal(HttpStatusCode.OK, (await bootstrap.GetJsonAsync("/api/v1/api-keys")).Status);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/api/v1/api-keys/bootstrap")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/api/v1/api-keys/bootstrap")).StatusCode); // again: still revoked

        Assert.Equal(HttpStatusCode.Unauthorized, (await bootstrap.GetJsonAsync("/api/v1/api-keys")).Status);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetJsonAsync("/api/v1/api-keys")).Status);
        var (_, keys) = await admin.GetJsonAsync("/api/v1/api-keys");
        Assert.Contains(keys!.AsArray(), k => k!["keyId"]!.GetValue<string>().StartsWith("bootstrap-") && k["revokedAt"] is not null);

        // The same key configured again after a restart stays refused.
        silo.Kill();
        await silo.StartAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, (await bootstrap.GetJsonAsync("/api/v1/api-keys")).Status);

        // A new bootstrap key (an operator locked out of every admin key) works until it too is revoked.
        const string replacement = "replacement-bootstrap-admin-key-42";
        silo.Kill();
        silo.ExtraEnvironment["Auth__BootstrapAdminKey"] = replacement;
        await silo.StartAsync();
        using var second = silo.CreateClient(replacement);
        Assert.Equal(HttpStatusCode.OK, (await second.GetJsonAsync("/api/v1/api-keys")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await bootstrap.GetJsonAsync("/api/v1/api-keys")).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await second.DeleteAsync("/api/v1/api-keys/bootstrap")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await second.GetJsonAsync("/api/v1/api-keys")).Status);
    }
}
