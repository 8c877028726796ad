namespace Orleans.Trade.Logistics;

/// <summary>
/// Destination lists of shipping zones and carrier lanes (R-LOG-1, R-LOG-3): ISO 3166-1 alpha-2 codes, or <see cref="Elsewhere"/>
/// for every country no other entry names; how they are checked, and which entry a country falls in.
/// </summary>
public static class DestinationCountries
{
    public const string Elsewhere = "*";
    public const int Max = 250;

    /// <summary>
    /// Adds to <paramref name="problems"/> what is wrong with the list at <paramref name="field"/> (empty, too long, a code not in
    /// upper-case alpha-2 form); <paramref name="each"/> sees every well-formed entry with its index (to check it is named once).
    /// </summary>
    public static void Check(List<(string Field, string Rule)> problems, string field, IReadOnlyList<string> countries, Action<string, int>? each = null)
    {
        if (countries.Count is 0 or > Max)
        {
            problems.Add((field, $"{field} holds 1 to {Max} ISO 3166-1 alpha-2 codes, or \"{Elsewhere}\" for every country no other entry names."));
        }
        for (var c = 0; c < countries.Count; c++)
        {
            var country = countries[c];
            if (country != Elsewhere && !(country is { Length: 2 } && char.IsAsciiLetterUpper(country[0]) && char.IsAsciiLetterUpper(country[1])))
            {
                problems.Add(($"{field}[{c}]", $"{field}[{c}] must be an ISO 3166-1 alpha-2 code in upper case, e.g. DE, or \"{Elsewhere}\"."));
            }
            else
            {
                each?.Invoke(country, c);
            }
        }
    }

    /// <summary>
    /// An <paramref name="each"/> for <see cref="Check"/> that refuses a country named by an earlier entry of <paramref name="groups"/>
    /// (a destination is in one zone, one lane); <paramref name="named"/> collects them across the entries.
    /// </summary>
    public static Action<string, int> Once(List<(string Field, string Rule)> problems, string groups, int index, Dictionary<string, int> named) =>
        (country, c) =>
        {
            if (!named.TryAdd(country, index))
            {
                problems.Add(($"{groups}[{index}].countries[{c}]", $"{country} is in {groups}[{named[country]}] already: a destination belongs to one entry of {groups}."));
            }
        };

    /// <summary>The entry naming the country, else the one naming <see cref="Elsewhere"/>, else null.</summary>
    public static T? For<T>(IReadOnlyList<T> entries, Func<T, IReadOnlyList<string>> countries, string country) where T : class =>
        Named(entries, countries, country) ?? Named(entries, countries, Elsewhere);

    /// <summary>Whether the list takes the country: it names it, or names <see cref="Elsewhere"/>.</summary>
    public static bool Take(IReadOnlyList<string> countries, string country) => countries.Contains(country) || countries.Contains(Elsewhere);

    private static T? Named<T>(IReadOnlyList<T> entries, Func<T, IReadOnlyList<string>> countries, string country) where T : class
    {
        foreach (var entry in entries)
        {
            if (countries(entry).Contains(country))
            {
                return entry;
            }
        }
        return null;
    }
}
