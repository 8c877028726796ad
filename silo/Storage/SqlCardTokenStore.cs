using Orleans.Trade.Api.Payments;
using Orleans.Trade.Payments;

namespace Orleans.Trade.Silo.Storage;

public sealed class SqlCardTokenStore(TradeDatabase database) : ICardTokenStore
{
    public async Task InsertAsync(CardToken t, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.Command("""
                INSERT INTO card_tokens (token, buyer_id, brand, bin, last4, bin_country, expiry_month, expiry_year, fingerprint, created_at)
                VALUES (@token, @buyer, @brand, @bin, @last4, @country, @month, @year, @fingerprint, @created)
                """)
            .With("token", t.Token).With("buyer", t.BuyerId).With("brand", t.Brand.ToString()).With("bin", t.Bin).With("last4", t.Last4)
            .With("country", t.BinCountry).With("month", (short)t.ExpiryMonth).With("year", (short)t.ExpiryYear)
            .With("fingerprint", t.Fingerprint).With("created", database.ToDb(t.CreatedAt))
            .ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<CardToken?> FindAsync(string token, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var reader = await connection.Command(
                "SELECT token, buyer_id, brand, bin, last4, bin_country, expiry_month, expiry_year, fingerprint, created_at FROM card_tokens WHERE token = @token")
            .With("token", token).ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        return new CardToken(reader.GetString(0), reader.GetString(1), Enum.Parse<CardBrand>(reader.GetString(2)), reader.GetString(3).Trim(),
            reader.GetString(4).Trim(), reader.IsDBNull(5) ? null : reader.GetString(5).Trim(), Convert.ToInt32(reader.GetValue(6)),
            Convert.ToInt32(reader.GetValue(7)), reader.GetString(8), TradeDatabase.FromDb(reader.GetValue(9)));
    }
}
