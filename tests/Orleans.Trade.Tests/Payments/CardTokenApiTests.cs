using System.Net;
using System.Text;
using Npgsql;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Payments;

/// <summary>Card tokenisation over HTTP on PostgreSQL; afterwards the whole database and the whole silo log are searched for the number.</summary>
public sealed class CardTokenApiTests : IAsyncLifetime
{
    private const string Number = "4000 0276 1234 5673";
    private const string Digits = "4000027612345673";
    private readonly string _log = Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N") + ".log");
    private SiloProcess _silo = null!;
    private string _connectionString = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_log)!);
        _connectionString = await PostgresServer.CreateDatabaseAsync("cards");
        _silo = new SiloProcess(SiloStorage.Postgres(_connectionString), "cards-" + Guid.NewGuid().ToString("N")[..8], new Dictionary<string, string>
        {
            ["Logging__LogLevel__Default"] = "Information",
            ["Logging__LogLevel__Microsoft.AspNetCore"] = "Debug",
            ["Payments__CardFingerprintKey"] = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray()),
        }) { LogFile = _log };
        await _silo.StartAsync();
    }

    public async Task DisposeAsync() => await _silo.DisposeAsync();

    [Fact]
    public async Task A_card_becomes_a_token_and_its_number_is_nowhere_in_the_database_or_the_logs()
    {
        using var admin = _silo.CreateClient();
        using var buyer = _silo.CreateClient(await TradeHttp.IssueKeyAsync(admin, "buyer", "buyer-card"));
        using var other = _silo.CreateClient(await TradeHttp.IssueKeyAsync(admin, "buyer", "buyer-other"));
        var year = DateTime.UtcNow.Year + 2;

        var (status, token) = await buyer.PostJsonAsync("/api/v1/payment-methods/cards", new { number = Number, expiryMonth = 12, expiryYear = year });
        var (again, second) = await buyer.PostJsonAsync("/api/v1/payment-methods/cards", new { number = Digits, expiryMonth = 12, expiryYear = year });
        var (badLuhn, luhnProblem) = await buyer.PostJsonAsync("/api/v1/payment-methods/cards", new { number = "4000 0276 1234 5674", expiryMonth = 12, expiryYear = year });
        var (expired, expiredProblem) = await buyer.PostJsonAsync("/api/v1/payment-methods/cards", new { number = Number, expiryMonth = 1, expiryYear = DateTime.UtcNow.Year - 1 });
        var (forOther, _) = await buyer.PostJsonAsync("/api/v1/payment-methods/cards", new { buyerId = "buyer-other", number = Number, expiryMonth = 12, expiryYear = year });
        var (malformed, malformedProblem) = await buyer.SendAsync(HttpMethod.Post, "/api/v1/payment-methods/cards", $"{{\"number\": {Digits}0000000000, \"expiryMonth\": \"x\"}}");

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("visa", token!["brand"]!.GetValue<string>());
        Assert.Equal("5673", token["last4"]!.GetValue<string>());
        Assert.Equal("DE", token["binCountry"]!.GetValue<string>());
        Assert.StartsWith("card_", token["token"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Created, again);
        Assert.Equal(HttpStatusCode.BadRequest, badLuhn);
        Assert.Contains("Luhn", luhnProblem!["errors"]!["number"]![0]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, expired);
        Assert.Contains("expired", expiredProblem!.ToJsonString());
        Assert.Equal(HttpStatusCode.Forbidden, forOther);
        Assert.Equal(HttpStatusCode.BadRequest, malformed);
        Assert.Equal(HttpStatusCode.OK, (await buyer.GetJsonAsync($"/api/v1/payment-methods/cards/{token["token"]}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetJsonAsync($"/api/v1/payment-methods/cards/{token["token"]}")).Status);
        foreach (var answer in new[] { token, second, luhnProblem, expiredProblem, malformedProblem })
        {
            Assert.DoesNotContain("02761234", answer!.ToJsonString());
        }

        // Two tokens of one card share a fingerprint, which is not the number.
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        var fingerprints = new List<string>();
        await using (var reader = await new NpgsqlCommand("SELECT fingerprint FROM card_tokens", connection).ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) fingerprints.Add(reader.GetString(0));
        }
        Assert.Equal(2, fingerprints.Count);
        Assert.Single(fingerprints.Distinct());

        // Every row of every table, as text (bytea shows as hex, so look for the hex of the digits too).
        var hex = Convert.ToHexStringLower(Encoding.ASCII.GetBytes(Digits));
        var tables = new List<string>();
        await using (var reader = await new NpgsqlCommand("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'", connection).ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) tables.Add(reader.GetString(0));
        }
        Assert.Contains("card_tokens", tables);
        foreach (var table in tables)
        {
            await using var reader = await new NpgsqlCommand($"SELECT t::text FROM \"{table}\" t", connection).ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var row = reader.GetString(0);
                Assert.DoesNotContain(Digits, row);
                Assert.DoesNotContain(hex, row);
                Assert.DoesNotContain("0276 1234", row);
            }
        }
        var log = await File.ReadAllTextAsync(_log);
        Assert.Contains("payment-methods/cards", log); // the requests were logged...
        Assert.DoesNotContain(Digits, log);            // ...but never the number
        Assert.DoesNotContain("0276 1234", log);
    }
}
