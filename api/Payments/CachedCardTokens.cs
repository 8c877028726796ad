using System.Collections.Concurrent;

namespace Orleans.Trade.Api.Payments;

/// <summary>
/// Card tokens this silo has found, kept in memory: a token row is written once and never changed or deleted, so a copy cannot
/// go stale, and a paid checkout costs no database read for a card its buyer used before. Only hits are kept (a token made on
/// another silo a moment ago is read from the database on its first use). Bounded: at <see cref="MaxEntries"/> the copy starts
/// over. The card's expiry is checked at each use from the token's own fields, as without the copy.
/// </summary>
public sealed class CachedCardTokens(ICardTokenStore store, int maxEntries = CachedCardTokens.MaxEntries) : ICardTokenStore
{
    public const int MaxEntries = 100_000;

    private readonly ConcurrentDictionary<string, CardToken> _found = new(StringComparer.Ordinal);

    public async Task InsertAsync(CardToken token, CancellationToken cancellationToken)
    {
        await store.InsertAsync(token, cancellationToken);
        Keep(token);
    }

    public async Task<CardToken?> FindAsync(string token, CancellationToken cancellationToken)
    {
        if (_found.TryGetValue(token, out var known))
        {
            return known;
        }
        var found = await store.FindAsync(token, cancellationToken);
        if (found is not null)
        {
            Keep(found);
        }
        return found;
    }

    private void Keep(CardToken token)
    {
        if (_found.Count >= maxEntries)
        {
            _found.Clear();
        }
        _found[token.Token] = token;
    }
}
