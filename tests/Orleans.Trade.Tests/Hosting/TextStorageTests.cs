using System.Net;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Hosting;

/// <summary>Texts that PostgreSQL cannot store are the caller's error, answered as such, not a hiccup to retry.</summary>
public sealed class TextStorageTests
{
    [Fact]
    public async Task A_text_holding_a_nul_character_that_postgres_cannot_store_is_refused_with_400_and_nothing_is_stored()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("nul");
        await using var silo = await SiloProcess.StartAsync(SiloStorage.Postgres(connectionString), "nul-" + Guid.NewGuid().ToString("N")[..8]);
        using var admin = silo.CreateClient();

        // The key's name goes to a text column, where PostgreSQL refuses the NUL; it answered 503, "retry it", which never
        // helps. The API now refuses it when reading the body (TextInputTests); the database's refusal stays mapped to 400.
        var (status, problem) = await admin.PostJsonAsync("/api/v1/api-keys", new { role = "buyer", subject = "b-nul", name = "till\u0000 1" });

        Assert.True(status == HttpStatusCode.BadRequest, $"{status} {problem}");
        Assert.Contains("U+0000", problem!["detail"]!.GetValue<string>());
        var (_, keys) = await admin.GetJsonAsync("/api/v1/api-keys");
        Assert.DoesNotContain(keys!.AsArray(), k => k!["subject"]?.GetValue<string>() == "b-nul");
        var (created, body) = await admin.PostJsonAsync("/api/v1/api-keys", new { role = "buyer", subject = "b-nul", name = "till 1" });
        Assert.True(created == HttpStatusCode.Created, $"{created} {body}");
    }
}
