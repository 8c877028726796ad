using System.Text.Json;
using Orleans.Trade.Inventory;
using Orleans.Trade.Silo.Storage;

namespace Orleans.Trade.Tests.Storage;

/// <summary>
/// sku_reservations.parts is written by source-generated code; rows stored before it (and by the slow path) hold the JSON of
/// the serializer's general options, and a SKU reads both back when it activates.
/// </summary>
public sealed class ReservationPartsJsonTests
{
    private static readonly JsonSerializerOptions StoredBefore = new(JsonSerializerDefaults.General);

    public static TheoryData<StockAllocationPart[]> Parts => new()
    {
        new[] { new StockAllocationPart("wh-lyon", 1, new DateOnly(2026, 12, 7)) },
        new[] { new StockAllocationPart("wh-\u00e9\"<1>", 2, null), new StockAllocationPart(null, 3, new DateOnly(2027, 1, 31)) },
        Array.Empty<StockAllocationPart>(),
    };

    [Theory]
    [MemberData(nameof(Parts))]
    public void Parts_are_written_as_the_general_options_write_them_and_read_back(StockAllocationPart[] parts)
    {
        var json = ReservationPartsJson.Write(parts);

        Assert.Equal(JsonSerializer.Serialize<IReadOnlyList<StockAllocationPart>>(parts, StoredBefore), json);
        Assert.Equal(parts, ReservationPartsJson.Read(json));
        Assert.Equal(parts, ReservationPartsJson.Read(JsonSerializer.Serialize(parts, StoredBefore)));
    }

    [Fact]
    public void Stored_parts_that_are_null_are_refused()
    {
        Assert.Throws<JsonException>(() => ReservationPartsJson.Read("null"));
    }
}
