namespace Orleans.Trade.Api.Logistics;

/// <summary>
/// Code 128 set B (ISO/IEC 15417), for drawing a tracking number's barcode ourselves (the PDF label; a ZPL printer draws its own):
/// start B, one symbol per character, the modulo-103 check symbol, stop.
/// </summary>
public static class Code128
{
    /// <summary>Each symbol's element widths in modules, bar first: six elements of 11 modules; the stop (106) has seven, of 13.</summary>
    public static readonly string[] Patterns =
    [
        "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212", "221213",
        "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221", "223211", "221132",
        "221231", "213212", "223112", "312131", "311222", "321122", "321221", "312212", "322112", "322211",
        "212123", "212321", "232121", "111323", "131123", "131321", "112313", "132113", "132311", "211313",
        "231113", "231311", "112133", "112331", "132131", "113123", "113321", "133121", "313121", "211331",
        "231131", "213113", "213311", "213131", "311123", "311321", "331121", "312113", "312311", "332111",
        "314111", "221411", "431111", "111224", "111422", "121124", "121421", "141122", "141221", "112214",
        "112412", "122114", "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111",
        "111242", "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
        "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311", "113141",
        "114131", "311141", "411131", "211412", "211214", "211232", "2331112",
    ];

    public const int StartB = 104, Stop = 106;

    /// <summary>The symbols of <paramref name="text"/> (printable ASCII only), start to stop.</summary>
    public static IReadOnlyList<int> Symbols(string text)
    {
        var symbols = new List<int>(text.Length + 3) { StartB };
        var sum = StartB;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] is < ' ' or > '~')
            {
                throw new ArgumentException($"Code 128 set B has no '{text[i]}' (U+{(int)text[i]:X4}).", nameof(text));
            }
            var value = text[i] - ' ';
            symbols.Add(value);
            sum += value * (i + 1);
        }
        symbols.Add(sum % 103);
        symbols.Add(Stop);
        return symbols;
    }

    /// <summary>The bars of <paramref name="text"/>'s barcode: each one's offset from the start and width, in modules.</summary>
    public static IReadOnlyList<(int At, int Width)> Bars(string text)
    {
        var bars = new List<(int, int)>();
        var at = 0;
        foreach (var symbol in Symbols(text))
        {
            var pattern = Patterns[symbol];
            for (var e = 0; e < pattern.Length; e++)
            {
                var width = pattern[e] - '0';
                if (e % 2 == 0)
                {
                    bars.Add((at, width));
                }
                at += width;
            }
        }
        return bars;
    }

    /// <summary>The barcode's width in modules, without quiet zones.</summary>
    public static int Modules(string text) => 11 * text.Length + 35;
}
