using System.Net;
using Microsoft.Playwright;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;

namespace Orleans.Trade.Tests.Risk;

/// <summary>
/// The analysts' page end to end in headless Chromium (the Debian package, /usr/bin/chromium): sign in with an analyst key,
/// find the flagged payment in the queue, claim and reject it, and see the order cancelled and its stock back.
/// </summary>
public sealed class AnalystPageTests(RiskSiloFixture fixture) : IClassFixture<RiskSiloFixture>
{
    public const string ChromiumPath = "/usr/bin/chromium";

    /// <summary>An order of three units whose card payment the policy sends to review (every payment scores at least 0).</summary>
    private async Task<(string OrderId, string Sku, string PaymentId)> HeldPaymentAsync()
    {
        var shop = fixture.Shop;
        var (policyStatus, _) = await shop.Admin.PutJsonAsync("/api/v1/risk/policy", new { reviewThreshold = 0, blockThreshold = 101 });
        Assert.Equal(HttpStatusCode.OK, policyStatus);
        var sellerId = OrderTestShop.NewId("s");
        var sku = await shop.SkuAsync(sellerId, priceMinor: 2_500, stock: [("wh-de", 5)]);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await shop.KeyAsync("buyer", buyerId);
        var (_, created) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 3 }]);
        var orderId = created!["orders"]![0]!["orderId"]!.GetValue<string>();
        var (_, card) = await buyer.PostJsonAsync("/api/v1/payment-methods/cards", new { number = "4242424242424242", expiryMonth = 12, expiryYear = DateTime.UtcNow.Year + 2 });
        using var pay = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/orders/{orderId}/payments")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { method = "card", cardToken = card!["token"]!.GetValue<string>() }, options: TradeHttp.Json),
        };
        pay.Headers.Add("Idempotency-Key", OrderTestShop.NewId("pay"));
        var paymentId = System.Text.Json.Nodes.JsonNode.Parse(await (await buyer.SendAsync(pay)).Content.ReadAsStringAsync())!["paymentId"]!.GetValue<string>();
        return (orderId, sku, paymentId);
    }

    private async Task<(IPlaywright Playwright, IBrowser Browser, IPage Page)> OpenPageAsync(string path)
    {
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { BaseURL = fixture.Silo.BaseAddress.ToString() });
        page.SetDefaultTimeout(30_000);
        await page.GotoAsync(path);
        return (playwright, browser, page);
    }

    [Fact]
    public async Task The_queue_pages_so_every_review_can_be_reached_beyond_the_first_page()
    {
        var held = new[] { (await HeldPaymentAsync()).PaymentId, (await HeldPaymentAsync()).PaymentId };
        var analystKey = await TradeHttp.IssueKeyAsync(fixture.Shop.Admin, "analyst", "ana-pages");
        // Both reviews in the queue's projection before the page reads it.
        foreach (var paymentId in held)
        {
            await Eventually.ReadAsync(async () => (await fixture.Shop.Admin.GetJsonAsync("/api/v1/risk/reviews?status=open&pageSize=100")).Body!,
                q => q["items"]!.AsArray().Any(r => r!["reviewId"]!.GetValue<string>() == paymentId), "the review in the queue");
        }
        var (playwright, browser, page) = await OpenPageAsync("/analyst?pageSize=1");
        using var _ = playwright;
        await using var __ = browser;
        await page.FillAsync("#api-key", analystKey);
        await page.ClickAsync("#sign-in");
        await Assertions.Expect(page.Locator("#total")).ToContainTextAsync("page 1 of");
        await Assertions.Expect(page.Locator("#prev")).ToBeDisabledAsync();

        // One review a page: Next walks the whole queue, and both reviews turn up on pages of their own.
        var seen = new List<string>();
        while (true)
        {
            await Assertions.Expect(page.Locator("tr.review")).ToHaveCountAsync(1);
            seen.Add((await page.Locator("tr.review").GetAttributeAsync("data-review-id"))!);
            if (await page.Locator("#next").IsDisabledAsync())
            {
                break;
            }
            var pageText = await page.Locator("#total").TextContentAsync();
            await page.ClickAsync("#next");
            await Assertions.Expect(page.Locator("#total")).Not.ToHaveTextAsync(pageText!);
        }
        Assert.Contains(held[0], seen);
        Assert.Contains(held[1], seen);
        Assert.Equal(seen.Count, seen.Distinct().Count());
        await Assertions.Expect(page.Locator("#total")).ToContainTextAsync($"page {seen.Count} of {seen.Count}");
        await page.ClickAsync("#prev");
        await Assertions.Expect(page.Locator("#total")).ToContainTextAsync($"page {seen.Count - 1} of");
    }

    [Fact]
    public async Task An_analyst_signs_in_finds_the_flagged_payment_rejects_it_and_the_order_is_cancelled_with_its_stock_back()
    {
        var shop = fixture.Shop;
        var (orderId, sku, paymentId) = await HeldPaymentAsync();
        var analystKey = await TradeHttp.IssueKeyAsync(shop.Admin, "analyst", "ana-browser");
        Assert.Equal(3, await shop.ReservedAsync(sku));

        var (playwright, browser, page) = await OpenPageAsync("/analyst");
        using var _ = playwright;
        await using var __ = browser;

        await page.FillAsync("#api-key", "otk_not_a_real_key_at_all");
        await page.ClickAsync("#sign-in");
        await Assertions.Expect(page.Locator("#login-error")).Not.ToBeEmptyAsync();
        await page.FillAsync("#api-key", analystKey);
        await page.ClickAsync("#sign-in");

        // The flagged payment shows up in the open queue (the projection may trail the hold by a moment).
        var row = page.Locator($"tr.review[data-review-id='{paymentId}']");
        for (var attempt = 0; attempt < 50 && await row.CountAsync() == 0; attempt++)
        {
            await page.ClickAsync("#refresh");
            await page.WaitForTimeoutAsync(200);
        }
        await row.ClickAsync();
        await Assertions.Expect(page.Locator("#d-payment")).ToHaveTextAsync(paymentId);
        await Assertions.Expect(page.Locator("#d-order-status")).ToHaveTextAsync("riskReview");
        await Assertions.Expect(page.Locator("#d-reasons li")).Not.ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("#d-features tr")).Not.ToHaveCountAsync(0);

        await page.ClickAsync("#reject");
        await Assertions.Expect(page.Locator("#action-error")).ToContainTextAsync("note");
        await page.ClickAsync("#claim");
        await Assertions.Expect(page.Locator("#d-status")).ToHaveTextAsync("claimed");
        await page.FillAsync("#note", "Card reported stolen by its owner");
        await page.ClickAsync("#reject");
        await Assertions.Expect(page.Locator("#d-status")).ToHaveTextAsync("rejected");

        // The void and the cancellation follow the decision; the page shows the order once it is cancelled.
        for (var attempt = 0; attempt < 50 && (await shop.OrderAsync(orderId))["status"]!.GetValue<string>() != "cancelled"; attempt++)
        {
            await Task.Delay(200);
        }
        await page.SelectOptionAsync("#status-filter", "rejected");
        await page.Locator($"tr.review[data-review-id='{paymentId}']").ClickAsync();
        await Assertions.Expect(page.Locator("#d-order-status")).ToHaveTextAsync("cancelled");
        await Assertions.Expect(page.Locator("#d-audit")).ToContainTextAsync("Card reported stolen by its owner");
        await Assertions.Expect(page.Locator("#approve")).ToBeDisabledAsync();
        Assert.Equal(0, await shop.ReservedAsync(sku));
    }

    [Fact]
    public async Task The_buttons_act_on_the_review_on_screen_never_on_one_clicked_whose_details_failed_or_arrived_late()
    {
        // The page decided the row clicked last while another review's details were still on screen: when that row's details
        // failed to load, or an earlier click's answer arrived after it and painted over it.
        var shop = fixture.Shop;
        var a = await HeldPaymentAsync();
        var b = await HeldPaymentAsync();
        foreach (var paymentId in new[] { a.PaymentId, b.PaymentId })
        {
            await Eventually.ReadAsync(async () => (await shop.Admin.GetJsonAsync("/api/v1/risk/reviews?status=open&pageSize=100")).Body!,
                q => q["items"]!.AsArray().Any(r => r!["reviewId"]!.GetValue<string>() == paymentId), "the review in the queue");
        }
        var analystKey = await TradeHttp.IssueKeyAsync(shop.Admin, "analyst", "ana-race");
        var (playwright, browser, page) = await OpenPageAsync("/analyst");
        using var _ = playwright;
        await using var __ = browser;
        await page.FillAsync("#api-key", analystKey);
        await page.ClickAsync("#sign-in");
        var rowA = page.Locator($"tr.review[data-review-id='{a.PaymentId}']");
        var rowB = page.Locator($"tr.review[data-review-id='{b.PaymentId}']");
        await Assertions.Expect(rowB).ToHaveCountAsync(1);
        await rowA.ClickAsync();
        await Assertions.Expect(page.Locator("#d-payment")).ToHaveTextAsync(a.PaymentId);

        // B's order cannot be read: nothing of A stays on screen to be decided.
        await page.RouteAsync($"**/api/v1/orders/{b.OrderId}", route => route.FulfillAsync(new RouteFulfillOptions
        {
            Status = 503, ContentType = "application/problem+json", Body = """{"title":"Temporarily unavailable","detail":"storage is down"}""",
        }));
        await rowB.ClickAsync();
        await Assertions.Expect(page.Locator("#detail-empty")).ToContainTextAsync("could not be loaded");
        await Assertions.Expect(page.Locator("#detail-body")).ToBeHiddenAsync();
        await page.UnrouteAsync($"**/api/v1/orders/{b.OrderId}");

        // A's details are slow, B clicked meanwhile: B's stay on screen when A's arrive, and Claim claims B.
        await page.RouteAsync($"**/api/v1/orders/{a.OrderId}", async route =>
        {
            await Task.Delay(1_500);
            await route.ContinueAsync();
        });
        await rowA.ClickAsync();
        await rowB.ClickAsync();
        await Assertions.Expect(page.Locator("#d-payment")).ToHaveTextAsync(b.PaymentId);
        await page.WaitForTimeoutAsync(2_500); // A's answer has arrived
        await Assertions.Expect(page.Locator("#d-payment")).ToHaveTextAsync(b.PaymentId);
        await page.ClickAsync("#claim");
        await Assertions.Expect(page.Locator("#d-status")).ToHaveTextAsync("claimed");
        Assert.Equal("claimed", (await shop.Admin.GetJsonAsync($"/api/v1/risk/reviews/{b.PaymentId}")).Body!["review"]!["status"]!.GetValue<string>());
        Assert.Equal("open", (await shop.Admin.GetJsonAsync($"/api/v1/risk/reviews/{a.PaymentId}")).Body!["review"]!["status"]!.GetValue<string>());
    }
}
