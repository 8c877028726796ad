using System.Globalization;
using System.Text;
using Orleans.Trade.Logistics;

namespace Orleans.Trade.Api.Logistics;

/// <summary>
/// Printable shipping labels (R-LOG-4): one 4×6 inch label per order, 203 dpi, as ZPL for thermal printers. Each label holds the
/// sender, the recipient as the order keeps its address, the carrier and service, and the tracking number as text and as a
/// Code 128 barcode (the printer draws it: <c>^BC</c>).
/// </summary>
public static class LabelDocuments
{
    /// <summary>4 × 6 inches at 203 dots per inch.</summary>
    public const int WidthDots = 812, HeightDots = 1218;

    private const int Margin = 40;

    public static string Zpl(IReadOnlyList<ShippingLabel> labels)
    {
        var zpl = new StringBuilder(labels.Count * 1_200);
        foreach (var label in labels)
        {
            // UTF-8 field data (^CI28); every text goes through ^FH so that no character of an address can end a field early.
            zpl.Append("^XA^CI28^PW").Append(WidthDots).Append("^LL").Append(HeightDots).Append("^LH0,0\n");
            var y = Margin;
            Text(zpl, y, 26, "FROM"); y += 34;
            Text(zpl, y, 34, $"Seller {label.SellerId}"); y += 52;
            Rule(zpl, y); y += 20;
            Text(zpl, y, 26, "TO"); y += 34;
            foreach (var line in Recipient(label))
            {
                Text(zpl, y, 36, line);
                y += 46;
            }
            y = Math.Max(y, 540);
            Rule(zpl, y); y += 24;
            Text(zpl, y, 44, label.CarrierName); y += 54;
            Text(zpl, y, 28, $"{Service(label.Service)} | {label.WeightGrams.ToString(CultureInfo.InvariantCulture)} g | {label.CarrierId}"); y += 56;
            var module = ModuleWidth(label.TrackingNumber);
            zpl.Append("^FO").Append(Margin).Append(',').Append(y).Append("^BY").Append(module).Append(",3,200")
                .Append("^BCN,200,N,N,N^FD").Append(label.TrackingNumber).Append("^FS\n");
            y += 224;
            Text(zpl, y, 48, label.TrackingNumber); y += 70;
            Rule(zpl, y); y += 20;
            Text(zpl, y, 28, $"Order {label.OrderId}");
            zpl.Append("^XZ\n");
        }
        return zpl.ToString();
    }

    /// <summary>The recipient's lines as the order keeps them: name, street, city with postal code and region, country, phone.</summary>
    public static IReadOnlyList<string> Recipient(ShippingLabel label)
    {
        var to = label.ShipTo;
        var lines = new List<string> { to.Name, to.Line1 };
        if (!string.IsNullOrWhiteSpace(to.Line2)) lines.Add(to.Line2);
        lines.Add(string.IsNullOrWhiteSpace(to.Region) ? $"{to.PostalCode} {to.City}" : $"{to.PostalCode} {to.City}, {to.Region}");
        lines.Add(to.Country);
        if (!string.IsNullOrWhiteSpace(to.Phone)) lines.Add($"Tel. {to.Phone}");
        return lines;
    }

    public static string Service(CarrierService service) => service switch
    {
        CarrierService.Postal => "Postal",
        CarrierService.Express => "Express",
        CarrierService.DedicatedLine => "Dedicated line",
        _ => service.ToString(),
    };

    /// <summary>Dots per narrowest bar: as wide as the label allows (at most 3), so that short numbers scan easily and long ones fit.</summary>
    public static int ModuleWidth(string trackingNumber)
    {
        // Code 128 set B: start, one symbol a character, check (11 modules each) and stop (13).
        var modules = 11 * trackingNumber.Length + 35;
        return Math.Clamp((WidthDots - 2 * Margin) / modules, 1, 3);
    }

    private static void Rule(StringBuilder zpl, int y) =>
        zpl.Append("^FO").Append(Margin).Append(',').Append(y).Append("^GB").Append(WidthDots - 2 * Margin).Append(",3,3^FS\n");

    private static void Text(StringBuilder zpl, int y, int height, string text) =>
        zpl.Append("^FO").Append(Margin).Append(',').Append(y).Append("^A0N,").Append(height).Append(',').Append(height)
            .Append("^FB").Append(WidthDots - 2 * Margin).Append(",1,0,L,0^FH_^FD").Append(FieldData(text)).Append("^FS\n");

    /// <summary>Text as ^FH field data: '_', '^' and '~' as hex escapes (they would end the field or start a command), controls as spaces.</summary>
    public static string FieldData(string text)
    {
        var escaped = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            escaped.Append(c switch
            {
                '_' => "_5F",
                '^' => "_5E",
                '~' => "_7E",
                _ when char.IsControl(c) => " ",
                _ => c.ToString(),
            });
        }
        return escaped.ToString();
    }
}
