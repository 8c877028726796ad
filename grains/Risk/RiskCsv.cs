using System.Globalization;
using System.Text;

namespace Orleans.Trade.Risk;

/// <summary>A recorded attempt with its fraud label (true: the payment was fraud, as confirmed later by a chargeback or review).</summary>
public sealed record LabelledRiskEvent(RiskEvent Event, bool IsFraud);

/// <summary>
/// The CSV form of <see cref="RiskEvent"/>: a header row naming the columns (any order), comma-separated, invariant culture,
/// times in ISO 8601 UTC, no quoting: a comma, quote, line break or percent sign in a value is written percent-encoded
/// (<c>%2C</c>, <c>%22</c>, <c>%0D</c>, <c>%0A</c>, <c>%25</c>), and so is a first character that makes a spreadsheet read the
/// cell as a formula (<c>%3D</c>, <c>%2B</c>, <c>%2D</c>, <c>%40</c>, <c>%09</c>); reading decodes them, so a value reads back
/// as it was written. Training and evaluation
/// files add a <c>label</c> column of 0 or 1.
/// </summary>
public static class RiskCsv
{
    public static readonly IReadOnlyList<string> Columns =
    [
        "payment_id", "occurred_at", "buyer_id", "buyer_created_at", "card_fingerprint", "card_bin_country",
        "device_fingerprint", "ip_address", "ip_country", "shipping_address_key", "ship_to_country", "amount_usd_minor",
        "sku_category", "outcome",
    ];

    public const string LabelColumn = "label";

    /// <summary>Larger files are refused rather than read into memory.</summary>
    public const int MaxRows = 5_000_000;

    public static void Write(TextWriter writer, IEnumerable<LabelledRiskEvent> events)
    {
        writer.Write(string.Join(',', Columns));
        writer.Write(',');
        writer.Write(LabelColumn);
        writer.Write('\n');
        var line = new StringBuilder();
        foreach (var (e, fraud) in events)
        {
            line.Clear();
            Append(line, e.PaymentId).Append(',');
            line.Append(e.OccurredAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)).Append(',');
            Append(line, e.BuyerId).Append(',');
            line.Append(e.BuyerCreatedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)).Append(',');
            Append(line, e.CardFingerprint).Append(',');
            Append(line, e.CardBinCountry).Append(',');
            Append(line, e.DeviceFingerprint).Append(',');
            Append(line, e.IpAddress).Append(',');
            Append(line, e.IpCountry).Append(',');
            Append(line, e.ShippingAddressKey).Append(',');
            Append(line, e.ShipToCountry).Append(',');
            line.Append(e.AmountUsdMinor.ToString(CultureInfo.InvariantCulture)).Append(',');
            Append(line, e.SkuCategory).Append(',');
            line.Append(e.Outcome == RiskOutcome.Approved ? "approved" : "declined").Append(',');
            line.Append(fraud ? '1' : '0').Append('\n');
            writer.Write(line);
        }
    }

    /// <summary>Reads every row; <paramref name="requireLabel"/> makes a missing <c>label</c> column an error, otherwise rows are labelled 0.</summary>
    public static List<LabelledRiskEvent> Read(TextReader reader, bool requireLabel)
    {
        var header = reader.ReadLine() ?? throw new FormatException("The file is empty: expected a header row.");
        var names = header.Trim().Split(',').Select(c => c.Trim()).ToArray();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < names.Length; i++)
        {
            index[names[i]] = i;
        }
        var missing = Columns.Where(c => !index.ContainsKey(c)).ToList();
        if (requireLabel && !index.ContainsKey(LabelColumn))
        {
            missing.Add(LabelColumn);
        }
        if (missing.Count > 0)
        {
            throw new FormatException($"Missing column(s): {string.Join(", ", missing)}. Expected: {string.Join(',', Columns)},{LabelColumn}.");
        }
        int Col(string name) => index[name];
        var label = index.TryGetValue(LabelColumn, out var l) ? l : -1;
        var rows = new List<LabelledRiskEvent>();
        var lineNumber = 1;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }
            if (rows.Count >= MaxRows)
            {
                throw new FormatException($"More than {MaxRows} rows.");
            }
            var f = line.Split(',');
            if (f.Length != names.Length)
            {
                throw new FormatException($"Line {lineNumber}: {f.Length} fields, the header has {names.Length}.");
            }
            try
            {
                var e = new RiskEvent(
                    PaymentId: Decode(f[Col("payment_id")]),
                    OccurredAt: Time(f[Col("occurred_at")]),
                    BuyerId: Decode(f[Col("buyer_id")]),
                    BuyerCreatedAt: Time(f[Col("buyer_created_at")]),
                    CardFingerprint: Decode(f[Col("card_fingerprint")]),
                    CardBinCountry: Decode(f[Col("card_bin_country")]),
                    DeviceFingerprint: Decode(f[Col("device_fingerprint")]),
                    IpAddress: Decode(f[Col("ip_address")]),
                    IpCountry: Decode(f[Col("ip_country")]),
                    ShippingAddressKey: Decode(f[Col("shipping_address_key")]),
                    ShipToCountry: Decode(f[Col("ship_to_country")]),
                    AmountUsdMinor: long.Parse(f[Col("amount_usd_minor")], NumberStyles.Integer, CultureInfo.InvariantCulture),
                    SkuCategory: Decode(f[Col("sku_category")]),
                    Outcome: f[Col("outcome")] switch
                    {
                        "approved" => RiskOutcome.Approved,
                        "declined" => RiskOutcome.Declined,
                        var other => throw new FormatException($"outcome must be approved or declined, not '{other}'"),
                    });
                var fraud = label >= 0 && f[label] switch
                {
                    "1" => true,
                    "0" => false,
                    var other => throw new FormatException($"label must be 0 or 1, not '{other}'"),
                };
                rows.Add(new LabelledRiskEvent(e, fraud));
            }
            catch (FormatException ex)
            {
                throw new FormatException($"Line {lineNumber}: {ex.Message}", ex);
            }
        }
        return rows;
    }

    public static List<LabelledRiskEvent> ReadFile(string path, bool requireLabel)
    {
        using var reader = new StreamReader(path, Encoding.UTF8);
        return Read(reader, requireLabel);
    }

    public static void WriteFile(string path, IEnumerable<LabelledRiskEvent> events)
    {
        // An --out path into a folder that does not exist yet creates it, as the model's --out does.
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } folder)
        {
            Directory.CreateDirectory(folder);
        }
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        Write(writer, events);
    }

    private static DateTimeOffset Time(string value) =>
        DateTimeOffset.Parse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    /// <summary>
    /// A value as it was before <see cref="Append"/> encoded it: every <c>%XX</c> back to its character. So a file of this release
    /// and one of an earlier (which left a formula's first character as it was) read the same value as the same key, and a
    /// replayed attempt's keys are the ones live scoring uses.
    /// </summary>
    private static string Decode(string value)
    {
        if (!value.Contains('%', StringComparison.Ordinal))
        {
            return value;
        }
        var decoded = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '%' && i + 2 < value.Length
                && int.TryParse(value.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
            {
                decoded.Append((char)code);
                i += 2;
            }
            else
            {
                decoded.Append(value[i]);
            }
        }
        return decoded.ToString();
    }

    private static StringBuilder Append(StringBuilder line, string value)
    {
        // A device fingerprint is whatever the client sent and a category whatever the seller typed: one such value must not stop
        // a whole export of the analysts' labels, nor run as a formula in the spreadsheet an operator opens it in (a cell
        // starting with =, +, -, @ or a tab or carriage return is one there): that first character is percent-encoded too.
        var formula = value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r';
        if (!formula && value.AsSpan().IndexOfAny(",\"\r\n%") < 0)
        {
            return line.Append(value);
        }
        var start = 0;
        if (formula)
        {
            line.Append('%').Append(((int)value[0]).ToString("X2", CultureInfo.InvariantCulture));
            start = 1;
        }
        foreach (var c in value.AsSpan(start))
        {
            _ = c switch
            {
                ',' => line.Append("%2C"),
                '"' => line.Append("%22"),
                '\r' => line.Append("%0D"),
                '\n' => line.Append("%0A"),
                '%' => line.Append("%25"),
                _ => line.Append(c),
            };
        }
        return line;
    }
}
