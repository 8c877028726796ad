using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Orders;

/// <summary>
/// Every text of a request body is refused with a 400 naming its place when it holds a control character other than tab,
/// line feed and carriage return, or half of a surrogate pair; nothing of the request is stored. Other Unicode passes as sent.
/// </summary>
public sealed class TextInputTests(OrdersSiloFixture fixture) : IClassFixture<OrdersSiloFixture>
{
    private OrderTestShop Shop => fixture.Shop;

    [Fact]
    public async Task A_control_character_anywhere_in_a_body_answers_400_naming_the_text_and_nothing_is_stored()
    {
        // A member of the body: the bell character in a warehouse's name.
        var warehouse = OrderTestShop.NewId("wh");
        var (status, problem) = await Shop.Admin.PutJsonAsync($"/api/v1/warehouses/{warehouse}", new { name = "Lager\u0007", country = "DE" });
        AssertRefused(status, problem, "$.name", "U+0007");
        Assert.DoesNotContain(await WarehouseIdsAsync(), id => id == warehouse);

        // A member of a nested object: a terminal escape sequence in the shipping name; no order, no unit reserved.
        var seller = OrderTestShop.NewId("s");
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await Shop.KeyAsync("buyer", buyerId);
        var sku = await Shop.SkuAsync(seller, stock: [("wh-de", 10)]);
        var shipTo = new { name = "Anna\u001b[2J", line1 = "Invalidenstr. 1", city = "Berlin", postalCode = "10115", country = "DE", phone = "+49 30 1234567" };
        var (checkout, refusal) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("k"),
            [new { skuId = sku, quantity = 1 }], shipTo: shipTo);
        AssertRefused(checkout, refusal, "$.shipTo.name", "U+001B");
        Assert.Equal(0, await Shop.ReservedAsync(sku));
        var (_, orders) = await Shop.Admin.GetJsonAsync($"/api/v1/buyers/{buyerId}/orders");
        Assert.Empty(orders!["items"]!.AsArray());

        // An element of an array, and a C1 control (U+0085, "next line"): the SKU is not created.
        var other = OrderTestShop.NewId("sku");
        var (put, putProblem) = await Shop.Admin.PutJsonAsync($"/api/v1/skus/{other}", new
        {
            sellerId = seller, title = "Cable", category = "electronics", price = new { amountMinor = 100, currency = "USD" },
            weightGrams = 40, hsCode = "8544.42", originCountry = "CN", substituteSkuIds = new[] { sku, "x\u0085y" },
        });
        AssertRefused(put, putProblem, "$.substituteSkuIds[1]", "U+0085");
        var (missing, _) = await Shop.Admin.GetJsonAsync($"/api/v1/skus/{other}");
        Assert.Equal(HttpStatusCode.NotFound, missing);
    }

    [Fact]
    public async Task Half_of_a_surrogate_pair_answers_400_saying_so()
    {
        var warehouse = OrderTestShop.NewId("wh");
        using var content = new StringContent("""{"name":"Lager \ud800 Nord","country":"DE"}""", Encoding.UTF8, "application/json");
        using var answer = await Shop.Admin.PutAsync($"/api/v1/warehouses/{warehouse}", content);
        var problem = JsonNode.Parse(await answer.Content.ReadAsStringAsync());

        AssertRefused(answer.StatusCode, problem, "$.name", "surrogate");
        Assert.DoesNotContain(await WarehouseIdsAsync(), id => id == warehouse);
    }

    [Fact]
    public async Task Tabs_line_breaks_and_any_other_unicode_are_stored_as_sent()
    {
        var warehouse = OrderTestShop.NewId("wh");
        const string name = "Zürich 北京 🚀\tHalle 2\r\nNord";

        var (status, body) = await Shop.Admin.PutJsonAsync($"/api/v1/warehouses/{warehouse}", new { name, country = "CH" });

        Assert.True(status == HttpStatusCode.OK || status == HttpStatusCode.Created, $"{status} {body}");
        var (_, list) = await Shop.Admin.GetJsonAsync("/api/v1/warehouses");
        var stored = list!.AsArray().Single(w => w!["warehouseId"]!.GetValue<string>() == warehouse);
        Assert.Equal(name, stored!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_openapi_document_types_every_member_and_array_item()
    {
        var schemas = (await Shop.Admin.GetJsonAsync("/openapi/v1.json")).Body!["components"]!["schemas"]!.AsObject();
        var untyped = new List<string>();
        foreach (var (name, schema) in schemas)
        {
            foreach (var (member, property) in schema!["properties"]?.AsObject() ?? [])
            {
                Typed($"{name}.{member}", property!, untyped);
            }
        }
        Assert.True(schemas.Count >= 40, $"{schemas.Count} schemas");
        Assert.Empty(untyped);
        // Texts read by the API's own converter are strings still, nullable where the member is.
        var checkout = schemas["CheckoutRequest"]!["properties"]!;
        Assert.Equal("string", checkout["currency"]!["type"]!.GetValue<string>());
        Assert.Equal(["null", "string"], checkout["couponCode"]!["type"]!.AsArray().Select(t => t!.GetValue<string>()).Order());
        Assert.Equal("string", schemas["PutSkuRequest"]!["properties"]!["substituteSkuIds"]!["items"]!["type"]!.GetValue<string>());
    }

    private static void Typed(string where, JsonNode schema, List<string> untyped)
    {
        if (schema["type"] is null && schema["$ref"] is null && schema["oneOf"] is null && schema["anyOf"] is null && schema["allOf"] is null)
        {
            untyped.Add(where);
        }
        if (schema["items"] is { } items)
        {
            Typed(where + "[]", items, untyped);
        }
        else if (IsArray(schema))
        {
            untyped.Add(where + "[]");
        }
        if (schema["additionalProperties"] is JsonObject values)
        {
            Typed(where + "{}", values, untyped);
        }
    }

    private static bool IsArray(JsonNode schema) => schema["type"] switch
    {
        JsonValue single => single.GetValue<string>() == "array",
        JsonArray types => types.Any(t => t!.GetValue<string>() == "array"),
        _ => false,
    };

    private static void AssertRefused(HttpStatusCode status, JsonNode? problem, string path, string what)
    {
        Assert.True(status == HttpStatusCode.BadRequest, $"{status} {problem}");
        var detail = problem!["detail"]!.GetValue<string>();
        Assert.Contains($"'{path}'", detail);
        Assert.Contains(what, detail);
    }

    private async Task<List<string>> WarehouseIdsAsync() =>
        (await Shop.Admin.GetJsonAsync("/api/v1/warehouses")).Body!.AsArray().Select(w => w!["warehouseId"]!.GetValue<string>()).ToList();
}
