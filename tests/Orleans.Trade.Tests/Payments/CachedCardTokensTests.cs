using Orleans.Trade.Api.Payments;
using Orleans.Trade.Payments;

namespace Orleans.Trade.Tests.Payments;

/// <summary>The silo's copy of card tokens it has found (pure logic over a counting in-memory store).</summary>
public sealed class CachedCardTokensTests
{
    private sealed class CountingStore : ICardTokenStore
    {
        public Dictionary<string, CardToken> Rows { get; } = new(StringComparer.Ordinal);
        public int Finds { get; private set; }

        public Task InsertAsync(CardToken token, CancellationToken cancellationToken)
        {
            Rows.Add(token.Token, token);
            return Task.CompletedTask;
        }

        public Task<CardToken?> FindAsync(string token, CancellationToken cancellationToken)
        {
            Finds++;
            return Task.FromResult(Rows.GetValueOrDefault(token));
        }
    }

    private static CardToken Token(string id) =>
        new(id, "buyer-1", CardBrand.Visa, "424242", "4242", "US", 12, 2030, "fp-" + id, new DateTimeOffset(2026, 12, 2, 8, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task A_found_or_inserted_token_is_answered_from_memory_and_a_miss_is_asked_again()
    {
        var store = new CountingStore();
        var cards = new CachedCardTokens(store);
        store.Rows.Add("tok-a", Token("tok-a"));

        Assert.Equal("tok-a", (await cards.FindAsync("tok-a", default))!.Token);
        Assert.Equal("tok-a", (await cards.FindAsync("tok-a", default))!.Token);
        Assert.Equal(1, store.Finds);

        await cards.InsertAsync(Token("tok-b"), default);
        Assert.Equal("fp-tok-b", (await cards.FindAsync("tok-b", default))!.Fingerprint);
        Assert.Equal(1, store.Finds);

        // Unknown now, made by another silo a moment later: found on the next use.
        Assert.Null(await cards.FindAsync("tok-c", default));
        store.Rows.Add("tok-c", Token("tok-c"));
        Assert.NotNull(await cards.FindAsync("tok-c", default));
        Assert.Equal(3, store.Finds);
    }

    [Fact]
    public async Task The_copy_is_bounded_and_starts_over_when_full()
    {
        var store = new CountingStore();
        var cards = new CachedCardTokens(store, maxEntries: 2);
        foreach (var id in new[] { "t1", "t2", "t3" })
        {
            await cards.InsertAsync(Token(id), default);
        }
        // t3 started a new copy: t1 and t2 are read from the store again, t3 is not.
        Assert.NotNull(await cards.FindAsync("t3", default));
        Assert.Equal(0, store.Finds);
        Assert.NotNull(await cards.FindAsync("t1", default));
        Assert.Equal(1, store.Finds);
    }
}
