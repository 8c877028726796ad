using System.Net;
using System.Text.Json.Nodes;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Orders;

/// <summary>
/// What a caller must send and what it hears when it sends something else. The OpenAPI document's request schemas say which
/// members are required, and the API agrees: a body without a member the document requires answers 400 naming it; a body
/// without any other member is accepted. A wrong path, method or media type answers a ProblemDetails that says what to change.
/// </summary>
public sealed class RequestContractTests(OrdersSiloFixture fixture) : IClassFixture<OrdersSiloFixture>
{
    private OrderTestShop Shop => fixture.Shop;

    [Fact]
    public async Task Request_schemas_require_only_what_every_caller_must_send_and_those_members_are_not_nullable()
    {
        var schemas = (await Shop.Admin.GetJsonAsync("/openapi/v1.json")).Body!["components"]!["schemas"]!.AsObject();

        Assert.Equal(["currency", "shipTo", "items"], Required(schemas, "CheckoutRequest"));
        Assert.Equal(["name", "line1", "city", "country", "phone"], Required(schemas, "ShippingAddressRequest"));
        Assert.Equal(["method"], Required(schemas, "PaymentRequest"));
        Assert.Equal(["title", "category", "price", "weightGrams", "hsCode", "originCountry"], Required(schemas, "PutSkuRequest"));
        Assert.Equal(["number", "expiryMonth", "expiryYear"], Required(schemas, "CardRequest"));
        Assert.Equal(["role"], Required(schemas, "CreateApiKeyRequest"));
        Assert.Empty(Required(schemas, "RefundRequest"));
        Assert.Empty(Required(schemas, "SettlementRequest"));
        Assert.Equal(["note"], Required(schemas, "TicketClosureRequest"));
        Assert.Equal(["currency", "maxRedemptions"], Required(schemas, "CouponRequest"));

        var checkout = schemas["CheckoutRequest"]!["properties"]!;
        Assert.Equal("string", checkout["currency"]!["type"]!.GetValue<string>());
        Assert.Equal("#/components/schemas/ShippingAddressRequest", checkout["shipTo"]!["$ref"]!.GetValue<string>());
        Assert.Equal("array", checkout["items"]!["type"]!.GetValue<string>());
        Assert.Contains("null", checkout["couponCode"]!["type"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Contains("buyer", checkout["buyerId"]!["description"]!.GetValue<string>());
        Assert.Contains("postal codes", schemas["ShippingAddressRequest"]!["properties"]!["postalCode"]!["description"]!.GetValue<string>());

        var requests = schemas.Where(s => s.Key.EndsWith("Request", StringComparison.Ordinal)).ToList();
        Assert.True(requests.Count >= 20, $"{requests.Count} request schemas");
        foreach (var (name, schema) in requests)
        {
            var properties = schema!["properties"]!.AsObject();
            var required = Required(schemas, name);
            // No request has every member required unless each is truly needed; those that do list them below.
            if (required.Length == properties.Count)
            {
                Assert.Contains(name, new[]
                {
                    "CartLineRequest", "MoneyRequest", "PreSaleRequest", "PutStockRequest", "BulkStockItemRequest", "BulkStockRequest", "AdSpendRequest",
                    "PutWarehouseRequest", "DepositRequest", "TotpCodeRequest", "PayoutAccountRequest", "WithdrawalRequest",
                    "ReviewDecisionRequest", "ShipRequest", "TicketClosureRequest", "ReturnLineRequest", "ReturnParcelRequest", "WeightTierRequest",
                    "ShippingTemplateRequest", "CarrierTrackingBatchRequest", "SellerShipmentRequest", "SellerShipmentsRequest",
                    "CarrierLaneRequest", "CarrierAcceptanceRequest", "DestinationRestrictionRequest", "InspectionReportRequest",
                    "PriceBenchmarkImportRequest", "StorefrontEventBatchRequest", "ExperimentVariantRequest", "ExperimentExposureRequest",
                    "ExperimentExposuresRequest",
                });
            }
            foreach (var member in required)
            {
                var property = properties[member]!;
                Assert.False(property["type"] is JsonArray types && types.Any(t => t!.GetValue<string>() == "null"), $"{name}.{member} is nullable");
                Assert.Null(property["oneOf"]);
            }
        }
    }

    [Fact]
    public async Task Leaving_out_a_member_answers_400_naming_it_exactly_when_the_document_requires_it()
    {
        var schemas = (await Shop.Admin.GetJsonAsync("/openapi/v1.json")).Body!["components"]!["schemas"]!.AsObject();
        var seller = OrderTestShop.NewId("s");
        var sellerKey = await Shop.KeyAsync("seller", seller);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await Shop.KeyAsync("buyer", buyerId);
        var sku = await Shop.SkuAsync(seller, stock: [("wh-de", 1000)]);

        var cases = new (string Name, HttpClient Client, HttpMethod Method, Func<string> Path, string Schema, Func<JsonObject> Body)[]
        {
            ("checkout", buyer, HttpMethod.Post, () => "/api/v1/checkout", "CheckoutRequest", () => new JsonObject
            {
                ["buyerId"] = buyerId,
                ["currency"] = "EUR",
                // Hong Kong has no postal codes: the one member whose need depends on another's value is left to its own test.
                ["shipTo"] = new JsonObject
                {
                    ["name"] = "Chan Tai Man", ["line1"] = "1 Queen's Road", ["line2"] = "Flat 2A", ["city"] = "Hong Kong",
                    ["region"] = "Central", ["postalCode"] = "", ["country"] = "HK", ["phone"] = "+852 2123 4567",
                },
                ["items"] = new JsonArray(new JsonObject { ["skuId"] = sku, ["quantity"] = 1 }),
                ["couponCode"] = null,
                ["payment"] = new JsonObject { ["method"] = "bankTransfer" },
            }),
            ("sku", sellerKey, HttpMethod.Put, () => $"/api/v1/skus/{OrderTestShop.NewId("sku")}", "PutSkuRequest", () => new JsonObject
            {
                ["sellerId"] = seller, ["title"] = "Teapot", ["category"] = "home",
                ["price"] = new JsonObject { ["amountMinor"] = 2500, ["currency"] = "USD" },
                ["weightGrams"] = 800, ["hsCode"] = "6912.00", ["originCountry"] = "CN", ["lowStockThreshold"] = 5,
                ["preSale"] = new JsonObject { ["quota"] = 10, ["promisedShipDate"] = "2099-01-31" },
                ["substituteSkuIds"] = new JsonArray(sku), ["handlingTimeDays"] = 3,
            }),
            ("adjustment", sellerKey, HttpMethod.Post, () => $"/api/v1/skus/{sku}/stock/wh-de/adjustments", "StockAdjustmentRequest",
                () => new JsonObject { ["eventId"] = OrderTestShop.NewId("ev"), ["delta"] = 1, ["reason"] = "recount" }),
            ("card", buyer, HttpMethod.Post, () => "/api/v1/payment-methods/cards", "CardRequest", () => new JsonObject
            {
                ["buyerId"] = buyerId, ["number"] = "4242 4242 4242 4242", ["expiryMonth"] = 12, ["expiryYear"] = DateTime.UtcNow.Year + 3, ["holderName"] = "A Buyer",
            }),
            ("api key", Shop.Admin, HttpMethod.Post, () => "/api/v1/api-keys", "CreateApiKeyRequest",
                () => new JsonObject { ["role"] = "analyst", ["subject"] = "desk-1", ["name"] = "review desk" }),
        };

        foreach (var (name, client, method, path, schema, body) in cases)
        {
            var whole = await Send(client, method, path(), body());
            Assert.True(whole.Status is HttpStatusCode.OK or HttpStatusCode.Created, $"{name}, whole body: {whole.Status} {whole.Body}");

            foreach (var (member, required) in Members(schemas, schema, body(), ""))
            {
                var without = body();
                Remove(without, member);
                var (status, answer) = await Send(client, method, path(), without);
                if (required)
                {
                    Assert.True(status == HttpStatusCode.BadRequest, $"{name} without {member}: {status} {answer}");
                    Assert.True(answer!["errors"]![member] is not null, $"{name} without {member} names other fields: {answer}");
                }
                else
                {
                    Assert.True(status is HttpStatusCode.OK or HttpStatusCode.Created, $"{name} without optional {member}: {status} {answer}");
                }
            }
        }
    }

    [Fact]
    public async Task A_postal_code_is_needed_where_the_country_has_them()
    {
        var seller = OrderTestShop.NewId("s");
        var sku = await Shop.SkuAsync(seller, stock: [("wh-de", 10)]);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await Shop.KeyAsync("buyer", buyerId);
        var germany = new { name = "Anna Schmidt", line1 = "Invalidenstr. 1", city = "Berlin", country = "DE", phone = "+49 30 1234567" };

        var (status, body) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 1 }], shipTo: germany);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.NotNull(body!["errors"]!["shipTo.postalCode"]);
    }

    [Fact]
    public async Task A_wrong_path_method_or_media_type_answers_a_problem_that_says_what_to_change()
    {
        var (status, body) = await Shop.Admin.SendAsync(HttpMethod.Get, "/api/v1/no-such-thing");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("/openapi/v1.json", body!["detail"]!.GetValue<string>());

        (status, body) = await Shop.Admin.SendAsync(HttpMethod.Delete, "/api/v1/checkout");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, status);
        Assert.Equal("DELETE is not allowed on /api/v1/checkout; it allows POST.", body!["detail"]!.GetValue<string>());

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/checkout") { Content = new StringContent("{}", System.Text.Encoding.UTF8, "text/plain") };
        request.Headers.Add("Idempotency-Key", OrderTestShop.NewId("key"));
        using var response = await Shop.Admin.SendAsync(request);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Contains("Content-Type: application/json", problem["detail"]!.GetValue<string>());

        // An endpoint's own 404 keeps its own words.
        (status, body) = await Shop.Admin.SendAsync(HttpMethod.Get, "/api/v1/orders/no-such-order");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("Order 'no-such-order' does not exist.", body!["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_member_the_operation_does_not_take_is_refused_naming_it_and_nothing_is_stored()
    {
        // A misspelt optional member was skipped and its default done: "ammount" on a refund asked for everything back.
        var (status, body) = await Shop.Admin.PostWithKeyAsync($"/api/v1/orders/{OrderTestShop.NewId("o")}/refunds", OrderTestShop.NewId("key"),
            new { ammount = new { amountMinor = 100, currency = "USD" } });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("member 'ammount' that this operation does not take", body!["detail"]!.GetValue<string>());

        var warehouseId = OrderTestShop.NewId("wh");
        (status, body) = await Shop.Admin.PutJsonAsync($"/api/v1/warehouses/{warehouseId}",
            new { name = "Lyon", country = "FR", address = new { city = "Lyon" } });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("The object at '$' has a member 'address'", body!["detail"]!.GetValue<string>());
        // Nested: the member is named where it stands.
        (status, body) = await Shop.Admin.PostWithKeyAsync("/api/v1/checkout", OrderTestShop.NewId("key"), new
        {
            currency = "USD",
            shipTo = new { name = "A", line1 = "1 Rue", city = "Lyon", postalCode = "69001", country = "FR", phone = "+33400000000", floor = 3 },
            items = new[] { new { skuId = "sku-x", quantity = 1 } },
        });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("The object at '$.shipTo' has a member 'floor'", body!["detail"]!.GetValue<string>());

        // A value that is not UTF-8 in a member nobody reads was never checked; now the member itself is refused.
        byte[] raw = [.. "{\"name\":\"Lyon\",\"country\":\"FR\",\"x\":\""u8, 0xFF, .. "\"}"u8];
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/warehouses/{warehouseId}") { Content = new ByteArrayContent(raw) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await Shop.Admin.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain((await Shop.Admin.GetJsonAsync("/api/v1/warehouses")).Body!.AsArray(),
            w => w!["warehouseId"]!.GetValue<string>() == warehouseId); // none of the three writes stored the warehouse
    }

    [Fact]
    public async Task A_checkout_naming_a_coupon_no_seller_of_the_cart_has_is_refused_instead_of_charging_the_full_price_unannounced()
    {
        // The coupon code was kept on the order and never taken off the price: the buyer paid in full with no word of it. Coupons
        // are sellers' now (CouponApiTests); a code none of the cart's sellers has is still refused, nothing reserved.
        var sku = await Shop.SkuAsync(OrderTestShop.NewId("s"), stock: [("wh-de", 5)]);
        var buyerId = OrderTestShop.NewId("b");
        var (status, body) = await Shop.Admin.PostWithKeyAsync("/api/v1/checkout", OrderTestShop.NewId("key"), new
        {
            buyerId, currency = "EUR", shipTo = OrderTestShop.Address(), items = new[] { new { skuId = sku, quantity = 1 } }, couponCode = "SAVE10",
        });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Contains("Coupon 'SAVE10' is not a coupon of a seller whose goods are in this cart", body!["detail"]!.GetValue<string>());
        Assert.Equal(0, await Shop.ReservedAsync(sku));
        Assert.Empty((await Shop.Admin.GetJsonAsync($"/api/v1/buyers/{buyerId}/orders")).Body!["items"]!.AsArray());
    }

    [Theory]
    [InlineData("/api/v1/sellers/s-1/orders?from=yesterday", "from", "ISO 8601 date-time such as 2026-12-07T10:00:00Z")]
    [InlineData("/api/v1/sellers/s-1/orders?page=abc", "page", "whole number")]
    [InlineData("/api/v1/buyers/b-1/orders?pageSize=1.5", "pageSize", "whole number")]
    [InlineData("/api/v1/service-tickets?limit=x", "limit", "whole number")]
    [InlineData("/api/v1/stock/alerts?limit=ten", "limit", "whole number")]
    [InlineData("/api/v1/risk/reviews?minScore=high", "minScore", "whole number")]
    [InlineData("/api/v1/sellers/s-1/statement.csv?to=2026-13-45", "to", "ISO 8601 date-time")]
    [InlineData("/api/v1/api-keys?limit=1e3", "limit", "whole number")]
    public async Task A_query_value_that_cannot_be_read_answers_400_naming_the_parameter_and_the_form_it_takes(string path, string parameter, string expected)
    {
        // The 400 named the parameter and the value, not what it takes: a caller could not tell ?from=07/12/2026 from ?from=2026-12-07T00:00:00Z.
        using var response = await Shop.Admin.GetAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var errors = problem["errors"]!.AsObject();
        Assert.Equal([parameter], errors.Select(e => e.Key));
        var error = Assert.Single(errors[parameter]!.AsArray())!.GetValue<string>();
        Assert.StartsWith($"{parameter} must be", error);
        Assert.Contains(expected, error);
        Assert.Contains($"'{parameter}'", problem["detail"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("POST", "/api/v1/orders/no-such-order/accept")]
    [InlineData("POST", "/api/v1/orders/no-such-order/confirm-receipt")]
    [InlineData("POST", "/api/v1/risk/reviews/no-such-review/claim")]
    [InlineData("DELETE", "/api/v1/api-keys/no-such-key")]
    public async Task A_body_sent_to_an_operation_that_takes_none_is_refused_unless_empty(string method, string path)
    {
        // The body was skipped unread: a seller sending {"note": ...} with an accept believed it recorded.
        var (status, body) = await Send(method, path, "{\"note\":\"ships Monday\"}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("takes no body", body!["detail"]!.GetValue<string>());
        (status, body) = await Send(method, path, "not json");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("takes no body", body!["detail"]!.GetValue<string>());

        // None, or the empty object clients often send, reaches the operation (which finds nothing by that id).
        foreach (var empty in new[] { null, "{}", " { }\n" })
        {
            (status, body) = await Send(method, path, empty);
            Assert.True(status == HttpStatusCode.NotFound, $"{empty ?? "(none)"}: {status} {body}");
        }
    }

    private async Task<(HttpStatusCode Status, JsonNode? Body)> Send(string method, string path, string? json)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (json is not null)
        {
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }
        using var response = await Shop.Admin.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    [Fact]
    public async Task A_body_over_the_size_limit_answers_413_saying_the_limit()
    {
        // 31 MB of JSON: past the server's 30,000,000-byte limit on a request body. The endpoint never reads it, so no
        // exception reaches the handler; the status-code page alone answers.
        var body = "{\"title\":\"" + new string('a', 31_000_000) + "\"}";
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/skus/{OrderTestShop.NewId("sku")}")
        {
            Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
        };
        // As curl does for big bodies: the server answers before the body is sent, rather than closing the connection under it.
        request.Headers.ExpectContinue = true;
        using var response = await Shop.Admin.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Contains("30000000 bytes", problem["detail"]?.GetValue<string>() ?? "(no detail)");
    }

    [Fact]
    public async Task Every_error_an_operation_answers_is_a_problem_its_document_lists()
    {
        // The document listed a success and a 400 per operation, nothing else: a client generated from it had no 404, 409
        // or 422 to expect, and the Idempotency-Key the server refuses to go without was optional.
        var document = (await Shop.Admin.GetJsonAsync("/openapi/v1.json")).Body!;
        var seller = OrderTestShop.NewId("s");
        var sellerKey = await Shop.KeyAsync("seller", seller);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await Shop.KeyAsync("buyer", buyerId);
        var analyst = await Shop.KeyAsync("analyst", "desk-1");
        var sku = await Shop.SkuAsync(seller, stock: [("wh-de", 5)]);
        var (placed, checkout) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 1 }]);
        Assert.True(placed == HttpStatusCode.Created, $"{placed} {checkout}");
        var orderId = checkout!["orders"]![0]!["orderId"]!.GetValue<string>();
        var depositId = OrderTestShop.NewId("dep");
        Assert.Equal(HttpStatusCode.Created, (await Shop.Admin.PostJsonAsync($"/api/v1/sellers/{seller}/deposits",
            new { depositId, amount = new { amountMinor = 1000, currency = "USD" } })).Status);
        using var anonymous = fixture.Silo.CreateClient(apiKey: null);
        var items = new[] { new { skuId = sku, quantity = 1 } };

        var cases = new (string Operation, HttpStatusCode Status, HttpClient Client, HttpMethod Method, string Path, object? Body)[]
        {
            ("get /api/v1/skus/{skuId}", HttpStatusCode.Unauthorized, anonymous, HttpMethod.Get, $"/api/v1/skus/{sku}", null),
            ("get /api/v1/skus/{skuId}", HttpStatusCode.NotFound, buyer, HttpMethod.Get, "/api/v1/skus/no-such-sku", null),
            ("put /api/v1/skus/{skuId}/stock/{warehouseId}", HttpStatusCode.Conflict, sellerKey, HttpMethod.Put, $"/api/v1/skus/{sku}/stock/wh-de",
                new { onHand = 9, version = 1 }),
            ("put /api/v1/skus/{skuId}/stock/{warehouseId}", HttpStatusCode.UnprocessableEntity, sellerKey, HttpMethod.Put,
                $"/api/v1/skus/{sku}/stock/wh-nowhere", new { onHand = 9, version = 2 }),
            ("put /api/v1/skus/{skuId}/stock/{warehouseId}", HttpStatusCode.NotFound, Shop.Admin, HttpMethod.Put, "/api/v1/skus/no-such-sku/stock/wh-de",
                new { onHand = 9, version = 2 }),
            ("post /api/v1/skus/{skuId}/stock/{warehouseId}/adjustments", HttpStatusCode.Conflict, sellerKey, HttpMethod.Post,
                $"/api/v1/skus/{sku}/stock/wh-de/adjustments", new { eventId = "ev-1", delta = -1000 }),
            ("put /api/v1/warehouses/{warehouseId}", HttpStatusCode.Forbidden, sellerKey, HttpMethod.Put, "/api/v1/warehouses/wh-x",
                new { name = "X", country = "DE" }),
            ("delete /api/v1/api-keys/{keyId}", HttpStatusCode.NotFound, Shop.Admin, HttpMethod.Delete, "/api/v1/api-keys/no-such-key", null),
            ("post /api/v1/checkout", HttpStatusCode.Conflict, buyer, HttpMethod.Post, "/api/v1/checkout",
                new { buyerId, currency = "EUR", shipTo = OrderTestShop.Address(), items = new[] { new { skuId = sku, quantity = 999 } } }),
            ("post /api/v1/checkout", HttpStatusCode.UnprocessableEntity, buyer, HttpMethod.Post, "/api/v1/checkout",
                new { buyerId, currency = "EUR", shipTo = OrderTestShop.Address(), items, couponCode = "SAVE10" }),
            ("put /api/v1/sellers/{sellerId}/coupons/{code}", HttpStatusCode.Forbidden, sellerKey, HttpMethod.Put, "/api/v1/sellers/another-seller/coupons/SAVE10",
                new { currency = "EUR", percentOff = 10, maxRedemptions = 5 }),
            ("get /api/v1/sellers/{sellerId}/coupons/{code}", HttpStatusCode.NotFound, sellerKey, HttpMethod.Get, $"/api/v1/sellers/{seller}/coupons/NONE", null),
            ("post /api/v1/checkout", HttpStatusCode.Forbidden, buyer, HttpMethod.Post, "/api/v1/checkout",
                new { buyerId = "someone-else", currency = "EUR", shipTo = OrderTestShop.Address(), items }),
            ("get /api/v1/orders/{orderId}", HttpStatusCode.NotFound, buyer, HttpMethod.Get, "/api/v1/orders/no-such-order", null),
            ("post /api/v1/orders/{orderId}/accept", HttpStatusCode.Conflict, sellerKey, HttpMethod.Post, $"/api/v1/orders/{orderId}/accept", null),
            ("post /api/v1/orders/{orderId}/cancel", HttpStatusCode.NotFound, buyer, HttpMethod.Post, "/api/v1/orders/no-such-order/cancel", null),
            ("post /api/v1/orders/{orderId}/payments", HttpStatusCode.UnprocessableEntity, buyer, HttpMethod.Post, $"/api/v1/orders/{orderId}/payments",
                new { method = "card", cardToken = "card_none" }),
            ("post /api/v1/orders/{orderId}/refunds", HttpStatusCode.Forbidden, buyer, HttpMethod.Post, $"/api/v1/orders/{orderId}/refunds", new { }),
            ("post /api/v1/orders/{orderId}/refunds", HttpStatusCode.Conflict, Shop.Admin, HttpMethod.Post, $"/api/v1/orders/{orderId}/refunds", new { }),
            ("get /api/v1/payments/{paymentId}", HttpStatusCode.NotFound, buyer, HttpMethod.Get, "/api/v1/payments/no-such-payment", null),
            ("post /api/v1/payments/webhooks/{provider}", HttpStatusCode.BadRequest, anonymous, HttpMethod.Post, "/api/v1/payments/webhooks/sandbox",
                new { eventId = "unsigned" }),
            ("post /api/v1/payments/webhooks/{provider}", HttpStatusCode.NotFound, anonymous, HttpMethod.Post, "/api/v1/payments/webhooks/nobody",
                new { eventId = "unsigned" }),
            ("post /api/v1/risk/reviews/{reviewId}/claim", HttpStatusCode.NotFound, analyst, HttpMethod.Post, "/api/v1/risk/reviews/no-such-review/claim", null),
            ("post /api/v1/sellers/{sellerId}/deposits", HttpStatusCode.Conflict, Shop.Admin, HttpMethod.Post, $"/api/v1/sellers/{seller}/deposits",
                new { depositId, amount = new { amountMinor = 2000, currency = "USD" } }),
            ("get /api/v1/sellers/{sellerId}/payout-account", HttpStatusCode.NotFound, sellerKey, HttpMethod.Get, $"/api/v1/sellers/{seller}/payout-account", null),
            ("post /api/v1/sellers/{sellerId}/withdrawals", HttpStatusCode.Conflict, sellerKey, HttpMethod.Post, $"/api/v1/sellers/{seller}/withdrawals",
                new { withdrawalId = "w-1", amountMinor = 100, currency = "USD", totpCode = "123456" }),
            ("post /api/v1/sellers/{sellerId}/second-factor/totp/confirmation", HttpStatusCode.Conflict, sellerKey, HttpMethod.Post,
                $"/api/v1/sellers/{seller}/second-factor/totp/confirmation", new { code = "123456" }),
            ("get /api/v1/sellers/{sellerId}/ledger", HttpStatusCode.Forbidden, sellerKey, HttpMethod.Get, "/api/v1/sellers/another-seller/ledger", null),
            ("get /api/v1/sellers/{sellerId}/statement.csv", HttpStatusCode.BadRequest, sellerKey, HttpMethod.Get,
                $"/api/v1/sellers/{seller}/statement.csv?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", null),
        };

        foreach (var (operation, expected, client, method, path, body) in cases)
        {
            using var request = new HttpRequestMessage(method, path);
            if (body is not null)
            {
                request.Content = System.Net.Http.Json.JsonContent.Create(body, options: TradeHttp.Json);
            }
            request.Headers.Add("Idempotency-Key", OrderTestShop.NewId("key"));
            using var response = await client.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == expected, $"{operation} ({path}): {response.StatusCode} {text}");
            Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", $"{operation}: {response.Content.Headers.ContentType} {text}");
            var problem = JsonNode.Parse(text)!;
            Assert.All(new[] { "type", "title", "detail" }, m => Assert.False(string.IsNullOrWhiteSpace(problem[m]?.GetValue<string>()), $"{operation}: no {m} in {text}"));
            Assert.Equal((int)expected, problem["status"]!.GetValue<int>());

            var (verb, template) = (operation.Split(' ')[0], operation.Split(' ')[1]);
            var listed = document["paths"]![template]![verb]!["responses"]![((int)expected).ToString(System.Globalization.CultureInfo.InvariantCulture)];
            Assert.True(listed?["content"]?["application/problem+json"] is not null, $"{operation} answers {(int)expected}; the document lists {document["paths"]![template]![verb]!["responses"]}");
        }

        // Every operation may meet a store or cluster that is away (503, retry); those that take a key a missing one (401)
        // and a spent request budget (429).
        foreach (var (template, operations) in document["paths"]!.AsObject())
        {
            foreach (var (verb, operation) in operations!.AsObject())
            {
                var responses = operation!["responses"]!.AsObject();
                var expected = template == "/api/v1/payments/webhooks/{provider}" ? new[] { "503" } : ["401", "429", "503"];
                Assert.All(expected, status => Assert.True(responses[status]?["content"]?["application/problem+json"] is not null,
                    $"{verb} {template} does not list {status}: {responses}"));
            }
        }

        foreach (var operation in new[] { ("post", "/api/v1/checkout"), ("post", "/api/v1/orders/{orderId}/payments"), ("post", "/api/v1/orders/{orderId}/refunds") })
        {
            var header = document["paths"]![operation.Item2]![operation.Item1]!["parameters"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == "Idempotency-Key");
            Assert.True(header!["required"]?.GetValue<bool>() == true, $"{operation}: {header}");
        }
    }

    private static string[] Required(JsonObject schemas, string name) =>
        schemas[name]!["required"]?.AsArray().Select(r => r!.GetValue<string>()).ToArray() ?? [];

    /// <summary>Every member of <paramref name="body"/> by its path (as the validation names fields), with whether the
    /// document requires it; members that are objects or arrays of objects are walked into.</summary>
    private static IEnumerable<(string Path, bool Required)> Members(JsonObject schemas, string schema, JsonObject body, string prefix)
    {
        var required = Required(schemas, schema);
        var properties = schemas[schema]!["properties"]!.AsObject();
        foreach (var (member, value) in body)
        {
            Assert.True(properties.ContainsKey(member), $"{schema} has no member {member}");
            yield return (prefix + member, required.Contains(member));
            var reference = Reference(properties[member]!);
            if (reference is null)
            {
                continue;
            }
            var inner = value switch
            {
                JsonObject o => (o, prefix + member + "."),
                JsonArray { Count: > 0 } a when a[0] is JsonObject first => (first, $"{prefix}{member}[0]."),
                _ => default,
            };
            if (inner.Item1 is not null)
            {
                foreach (var nested in Members(schemas, reference, inner.Item1, inner.Item2))
                {
                    yield return nested;
                }
            }
        }
    }

    private static string? Reference(JsonNode property)
    {
        var node = property["items"] ?? property;
        var reference = node["$ref"] ?? node["oneOf"]?.AsArray().Select(o => o!["$ref"]).FirstOrDefault(r => r is not null);
        return reference?.GetValue<string>().Split('/')[^1];
    }

    private static void Remove(JsonObject body, string path)
    {
        var parts = path.Split('.');
        JsonNode node = body;
        foreach (var part in parts[..^1])
        {
            node = part.EndsWith("[0]", StringComparison.Ordinal) ? node[part[..^3]]![0]! : node[part]!;
        }
        Assert.True(node.AsObject().Remove(parts[^1]), path);
    }

    private static async Task<(HttpStatusCode Status, JsonNode? Body)> Send(HttpClient client, HttpMethod method, string path, JsonObject body)
    {
        using var request = new HttpRequestMessage(method, path)
        {
            Content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Idempotency-Key", OrderTestShop.NewId("key"));
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, string.IsNullOrEmpty(text) ? null : JsonNode.Parse(text));
    }
}
