using System.Globalization;
using System.Text;
using Orleans.Trade.Logistics;

namespace Orleans.Trade.Api.Logistics;

/// <summary>
/// Printable shipping labels (R-LOG-4): one 4×6 inch label per order, as ZPL for thermal printers (203 dpi) or as PDF. Each label
/// holds the sender, the recipient as the order keeps its address, the carrier and service, and the tracking number as text and
/// as a Code 128 barcode (a ZPL printer draws it, <c>^BC</c>; in the PDF its bars are drawn as rectangles).
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
        return Math.Clamp((WidthDots - 2 * Margin) / Code128.Modules(trackingNumber), 1, 3);
    }

    /// <summary>4 × 6 inches in PDF points.</summary>
    public const int PdfWidth = 288, PdfHeight = 432;

    private const int PdfMargin = 14;

    /// <summary>
    /// The labels as a PDF 1.4 document, one 4×6 inch page each, written by hand: Helvetica text (the standard fonts know
    /// Latin-1 only, so other characters print as '?'; the ZPL label prints them) and the barcode's bars as filled rectangles.
    /// </summary>
    public static byte[] Pdf(IReadOnlyList<ShippingLabel> labels)
    {
        var objects = new List<string>
        {
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [" + string.Join(" ", labels.Select((_, i) => $"{5 + 2 * i} 0 R")) + $"] /Count {labels.Count} >>",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        };
        foreach (var label in labels)
        {
            var content = PdfPage(label);
            objects.Add($"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PdfWidth} {PdfHeight}] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {objects.Count + 2} 0 R >>");
            objects.Add($"<< /Length {Latin1.GetByteCount(content)} >>\nstream\n{content}\nendstream");
        }
        var pdf = new StringBuilder("%PDF-1.4\n");
        var offsets = new long[objects.Count];
        long length = Latin1.GetByteCount(pdf.ToString());
        for (var i = 0; i < objects.Count; i++)
        {
            offsets[i] = length;
            var obj = $"{i + 1} 0 obj\n{objects[i]}\nendobj\n";
            pdf.Append(obj);
            length += Latin1.GetByteCount(obj);
        }
        pdf.Append("xref\n0 ").Append(objects.Count + 1).Append("\n0000000000 65535 f \n");
        foreach (var offset in offsets)
        {
            pdf.Append(offset.ToString("D10", CultureInfo.InvariantCulture)).Append(" 00000 n \n");
        }
        pdf.Append("trailer\n<< /Size ").Append(objects.Count + 1).Append(" /Root 1 0 R >>\nstartxref\n").Append(length).Append("\n%%EOF\n");
        return Latin1.GetBytes(pdf.ToString());
    }

    private static readonly Encoding Latin1 = Encoding.Latin1;

    private static string PdfPage(ShippingLabel label)
    {
        var page = new StringBuilder();
        var y = PdfHeight - 22;
        PdfText(page, "F1", 8, y, "FROM"); y -= 14;
        PdfText(page, "F2", 11, y, $"Seller {label.SellerId}"); y -= 10;
        PdfRule(page, y); y -= 14;
        PdfText(page, "F1", 8, y, "TO"); y -= 16;
        foreach (var line in Recipient(label))
        {
            PdfText(page, "F2", 12, y, line);
            y -= 15;
        }
        y = Math.Min(y, 272);
        PdfRule(page, y); y -= 20;
        PdfText(page, "F2", 14, y, label.CarrierName); y -= 14;
        PdfText(page, "F1", 9, y, $"{Service(label.Service)} | {label.WeightGrams.ToString(CultureInfo.InvariantCulture)} g | {label.CarrierId}"); y -= 86;
        // As wide as the page allows, at most 2 points a module; the margins are its quiet zones.
        var module = Math.Min(2m, (PdfWidth - 2m * PdfMargin) / Code128.Modules(label.TrackingNumber));
        foreach (var (at, width) in Code128.Bars(label.TrackingNumber))
        {
            page.Append(Number(PdfMargin + at * module)).Append(' ').Append(y).Append(' ').Append(Number(width * module)).Append(" 70 re f\n");
        }
        y -= 22;
        PdfText(page, "F2", 16, y, label.TrackingNumber); y -= 12;
        PdfRule(page, y); y -= 14;
        PdfText(page, "F1", 9, y, $"Order {label.OrderId}");
        return page.ToString();
    }

    private static string Number(decimal value) => Math.Round(value, 3).ToString("0.###", CultureInfo.InvariantCulture);

    private static void PdfRule(StringBuilder page, int y) =>
        page.Append(PdfMargin).Append(' ').Append(y).Append(' ').Append(PdfWidth - 2 * PdfMargin).Append(" 1 re f\n");

    private static void PdfText(StringBuilder page, string font, int size, int y, string text) =>
        page.Append("BT /").Append(font).Append(' ').Append(size).Append(" Tf ").Append(PdfMargin).Append(' ').Append(y)
            .Append(" Td (").Append(PdfString(text)).Append(") Tj ET\n");

    /// <summary>Text as a PDF literal string: '\\', '(' and ')' escaped, controls as spaces, what Latin-1 lacks as '?'.</summary>
    public static string PdfString(string text)
    {
        var escaped = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            escaped.Append(c switch
            {
                '\\' or '(' or ')' => "\\" + c,
                _ when char.IsControl(c) => " ",
                > '\u00ff' => "?",
                _ => c.ToString(),
            });
        }
        return escaped.ToString();
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
