using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Orleans.Trade.Api.Logistics;
using Orleans.Trade.Logistics;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Tests.Logistics;

/// <summary>The pure parts of shipping labels (R-LOG-4): S10 tracking numbers, the ZPL document, and the adapters' settings.</summary>
public sealed class LabelRulesTests
{
    [Theory]
    [InlineData(47312482, 9)] // the UPU S10 standard's own example
    [InlineData(12345678, 5)]
    [InlineData(8, 0)] // eleven less the sum is 10: 0
    [InlineData(15, 5)] // eleven less the sum is 11: 5
    public void S10_check_digit_is_weighted_8_6_4_2_3_5_9_7_modulo_11(long serial, int check) =>
        Assert.Equal(check, S10TrackingNumbers.CheckDigit(serial));

    [Fact]
    public void S10_numbers_format_with_their_check_digit_and_a_changed_digit_is_caught()
    {
        Assert.Equal("LX123456785CN", S10TrackingNumbers.Format("LX", 12345678, "CN"));
        Assert.Equal("EE000000080DE", S10TrackingNumbers.Format("EE", 8, "DE"));
        Assert.True(S10TrackingNumbers.IsValid("LX123456785CN"));
        Assert.False(S10TrackingNumbers.IsValid("LX123456795CN"));
        Assert.False(S10TrackingNumbers.IsValid("LX123456784CN"));
        Assert.False(S10TrackingNumbers.IsValid("lx123456785CN"));
        Assert.False(S10TrackingNumbers.IsValid("LX12345678CN"));
        Assert.Throws<ArgumentOutOfRangeException>(() => S10TrackingNumbers.CheckDigit(S10TrackingNumbers.SerialLimit));
    }

    private static ShippingLabel Label(string orderId, string trackingNumber, ShippingAddress? to = null) => new(orderId, "seller-1", "post-1",
        "Post One", CarrierService.Postal, trackingNumber, CarrierAdapterKind.Platform,
        to ?? new ShippingAddress("Anna Schmidt", "Invalidenstr. 1", null, "Berlin", null, "10115", "DE", "+49 30 1234567"), 500, DateTimeOffset.UnixEpoch);

    [Fact]
    public void A_ZPL_document_has_one_4x6_label_per_order_in_order_with_the_tracking_number_as_text_and_Code_128()
    {
        var zpl = LabelDocuments.Zpl([Label("o-1", "LX123456785CN"), Label("o-2", "LX000000080CN")]);

        var labels = zpl.Split("^XZ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(2, labels.Length);
        Assert.All(labels, l => Assert.StartsWith("^XA^CI28^PW812^LL1218", l));
        Assert.Contains("^BCN,200,N,N,N^FDLX123456785CN^FS", labels[0]);
        Assert.Contains("^FH_^FDLX123456785CN^FS", labels[0]);
        Assert.Contains("^FH_^FDOrder o-1^FS", labels[0]);
        Assert.Contains("^FDLX000000080CN^FS", labels[1]);
        Assert.Contains("^FH_^FDAnna Schmidt^FS", labels[1]);
        Assert.Contains("^FH_^FD10115 Berlin^FS", labels[1]);
        Assert.Contains("^FH_^FDSeller seller-1^FS", labels[1]);
        Assert.Contains("^FH_^FDPost One^FS", labels[1]);
    }

    [Fact]
    public void Address_text_cannot_break_out_of_its_ZPL_field()
    {
        var to = new ShippingAddress("Eve^XZ^XA~JA_x", "Line\n1", "", "Paris", "Île-de-France", "75001", "FR", "");
        var zpl = LabelDocuments.Zpl([Label("o-1", "LX123456785CN", to)]);

        Assert.Single(zpl.Split("^XA", StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("^FDEve_5EXZ_5EXA_7EJA_5Fx^FS", zpl);
        Assert.Contains("^FDLine 1^FS", zpl);
        Assert.Contains("^FD75001 Paris, Île-de-France^FS", zpl);
        Assert.DoesNotContain("Tel.", zpl);
        Assert.Equal(["Eve^XZ^XA~JA_x", "Line\n1", "75001 Paris, Île-de-France", "FR"], LabelDocuments.Recipient(Label("o", "X", to)));
    }

    [Fact]
    public void A_long_tracking_number_gets_narrower_bars_so_that_its_barcode_fits_the_label()
    {
        Assert.Equal(3, LabelDocuments.ModuleWidth("LX123456785CN"));
        Assert.Equal(2, LabelDocuments.ModuleWidth(new string('7', 25)));
        Assert.Equal(1, LabelDocuments.ModuleWidth(new string('7', 40)));
        // At the narrowest, the longest number a carrier may answer still fits between the margins.
        Assert.True(11 * HttpCarrierAdapter.MaxTrackingNumberLength + 35 <= LabelDocuments.WidthDots - 80);
    }

    [Fact]
    public void Code_128_has_107_distinct_symbols_of_11_modules_with_an_even_bar_width_and_a_stop_of_13()
    {
        Assert.Equal(107, Code128.Patterns.Length);
        Assert.Equal(107, Code128.Patterns.Distinct().Count());
        for (var i = 0; i < Code128.Patterns.Length; i++)
        {
            var widths = Code128.Patterns[i].Select(c => c - '0').ToArray();
            Assert.Equal(i == Code128.Stop ? 13 : 11, widths.Sum());
            Assert.Equal(i == Code128.Stop ? 7 : 6, widths.Length);
            // The standard's self-check: a symbol's bars add up to an even number of modules.
            Assert.True(widths.Where((_, e) => e % 2 == 0).Sum() % 2 == 0, $"symbol {i}");
        }
    }

    [Fact]
    public void Code_128_encodes_start_B_the_characters_a_modulo_103_check_and_stop()
    {
        Assert.Equal([104, 33, 34, 106], Code128.Symbols("A"));
        // 104 + 48×1 + 42×2 + 42×3 + 17×4 + 18×5 + 19×6 + 35×7 = 879, and 879 mod 103 = 55.
        Assert.Equal([104, 48, 42, 42, 17, 18, 19, 35, 55, 106], Code128.Symbols("PJJ123C"));
        Assert.Equal(Code128.Modules("LX123456785CN"), Code128.Bars("LX123456785CN").Max(b => b.At + b.Width));
        Assert.Throws<ArgumentException>(() => Code128.Symbols("Ä"));
    }

    [Fact]
    public void A_PDF_document_has_one_4x6_page_per_label_a_valid_xref_and_bars_that_read_back_as_the_tracking_number()
    {
        var to = new ShippingAddress("Zoë (Flat 2)", "Invalidenstr. 1", null, "Berlin", null, "10115", "DE", "+49 30 1234567");
        var bytes = LabelDocuments.Pdf([Label("o-1", "LX123456785CN", to), Label("o-2", "FC00000001DE")]);
        var pdf = Encoding.Latin1.GetString(bytes);

        Assert.StartsWith("%PDF-1.4\n", pdf);
        Assert.EndsWith("%%EOF\n", pdf);
        Assert.Equal(2, Regex.Count(pdf, @"/Type /Page /Parent 2 0 R /MediaBox \[0 0 288 432\]"));
        Assert.Contains("/Count 2", pdf);
        var xref = int.Parse(Regex.Match(pdf, @"startxref\n(\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.StartsWith("xref\n0 9\n", pdf[xref..]);
        var offsets = Regex.Matches(pdf[xref..], @"(\d{10}) 00000 n").Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(8, offsets.Length);
        for (var i = 0; i < offsets.Length; i++)
        {
            Assert.StartsWith($"{i + 1} 0 obj\n", pdf[offsets[i]..]);
        }
        foreach (Match stream in Regex.Matches(pdf, @"/Length (\d+) >>\nstream\n"))
        {
            var length = int.Parse(stream.Groups[1].Value, CultureInfo.InvariantCulture);
            Assert.StartsWith("\nendstream", pdf[(stream.Index + stream.Length + length)..]);
        }
        var pages = Regex.Matches(pdf, @">>\nstream\n(.*?)\nendstream", RegexOptions.Singleline).Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(2, pages.Length);
        Assert.Contains("(Zo\u00eb \\(Flat 2\\)) Tj", pages[0]);
        Assert.Contains("(LX123456785CN) Tj", pages[0]);
        Assert.Contains("(Order o-2) Tj", pages[1]);
        Assert.Equal("LX123456785CN", ReadBarcode(pages[0]));
        Assert.Equal("FC00000001DE", ReadBarcode(pages[1]));
    }

    /// <summary>Reads a page's barcode back from its bars (the 70-point-high rectangles): element widths, symbols, check, text.</summary>
    private static string ReadBarcode(string page)
    {
        var bars = Regex.Matches(page, @"([\d.]+) [\d.]+ ([\d.]+) 70 re f")
            .Select(m => (X: decimal.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), W: decimal.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)))
            .ToArray();
        var module = bars.Min(b => b.W);
        var widths = new List<int>();
        for (var i = 0; i < bars.Length; i++)
        {
            widths.Add((int)Math.Round(bars[i].W / module));
            if (i + 1 < bars.Length)
            {
                widths.Add((int)Math.Round((bars[i + 1].X - bars[i].X - bars[i].W) / module));
            }
        }
        var symbols = new List<int>();
        for (var at = 0; at + 6 <= widths.Count; at += 6)
        {
            var pattern = string.Concat(widths.Skip(at).Take(at + 7 == widths.Count ? 7 : 6));
            symbols.Add(Array.IndexOf(Code128.Patterns, pattern));
        }
        Assert.Equal(Code128.StartB, symbols[0]);
        Assert.Equal(Code128.Stop, symbols[^1]);
        var data = symbols[1..^2];
        Assert.Equal((Code128.StartB + data.Select((v, i) => v * (i + 1)).Sum()) % 103, symbols[^2]);
        return new string(data.Select(v => (char)(v + ' ')).ToArray());
    }

    [Theory]
    [InlineData("FC00000001DE", true)]
    [InlineData("1Z999AA1-0123", true)]
    [InlineData("", false)]
    [InlineData("AB 12", false)]
    [InlineData("AB^FS", false)]
    [InlineData("12345678901234567890123456789012345678901", false)]
    public void A_carriers_tracking_number_is_taken_only_when_it_prints_safely(string number, bool usable) =>
        Assert.Equal(usable, HttpCarrierAdapter.IsUsable(number));

    [Fact]
    public void An_http_carrier_needs_a_secure_url_and_a_secret_and_the_platform_series_two_letter_codes()
    {
        static LabelOptions With(CarrierAdapterOptions carrier) => new() { Carriers = { ["post-1"] = carrier } };
        var secret = new string('s', 16);

        Assert.Null(new LabelOptions().Problem());
        Assert.Null(With(new CarrierAdapterOptions { Adapter = CarrierAdapterKind.Http, Url = new("https://carrier.example/book"), Secret = secret }).Problem());
        Assert.Null(With(new CarrierAdapterOptions { Adapter = CarrierAdapterKind.Http, Url = new("http://127.0.0.1:9/book"), Secret = secret }).Problem());
        Assert.Contains("Labels:Carriers:post-1:Url is required",
            With(new CarrierAdapterOptions { Adapter = CarrierAdapterKind.Http, Secret = secret }).Problem());
        Assert.Contains("must use https",
            With(new CarrierAdapterOptions { Adapter = CarrierAdapterKind.Http, Url = new("http://carrier.example/book"), Secret = secret }).Problem());
        Assert.Contains("Labels:Carriers:post-1:Secret",
            With(new CarrierAdapterOptions { Adapter = CarrierAdapterKind.Http, Url = new("https://carrier.example/book"), Secret = "short" }).Problem());
        Assert.Contains("TimeoutMs", With(new CarrierAdapterOptions { TimeoutMs = 60_000 }).Problem());
        Assert.Contains("TrackingPrefix", new LabelOptions { TrackingPrefix = "L1" }.Problem());
        Assert.Contains("TrackingCountry", new LabelOptions { TrackingCountry = "cn" }.Problem());
    }
}
