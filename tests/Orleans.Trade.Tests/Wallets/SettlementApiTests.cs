using System.Net;
using Orleans.Trade.Payments;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;

namespace Orleans.Trade.Tests.Wallets;

/// <summary>
/// R-SET-1 and R-PAY-4 over HTTP on PostgreSQL: released money waits T+N in pending, then becomes available; a withdrawal needs
/// an enrolled TOTP second factor, and each code works once.
/// </summary>
public sealed class SettlementApiTests
{
    /// <summary>Checks out one unit, has the admin record its payment, ships it and has the buyer confirm receipt: its escrow is released.</summary>
    private static async Task CompleteOrderAsync(OrderTestShop shop, string sku, HttpClient seller, HttpClient buyer, string buyerId)
    {
        var (_, created) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 1 }]);
        var orderId = created!["orders"]![0]!["orderId"]!.GetValue<string>();
        await shop.ActAsync(shop.Admin, orderId, "payment-confirmations");
        await shop.ActAsync(seller, orderId, "ship", new { carrier = "DHL", trackingNumber = "JD3" });
        await shop.ActAsync(buyer, orderId, "confirm-receipt");
    }

    [Fact]
    public async Task Pending_money_matures_while_the_seller_releases_orders_more_often_than_the_maturity_check_runs()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("settle");
        await using var silo = await SiloProcess.StartAsync(SiloStorage.Postgres(connectionString), "settle-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string> { ["Clock__AllowTestControl"] = "true", ["Settlement__MaturityCheckPeriod"] = "00:00:03" });
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var sellerId = OrderTestShop.NewId("s");
        var sku = await shop.SkuAsync(sellerId, priceMinor: 10_000, stock: [("wh-de", 100)]);
        var seller = await shop.KeyAsync("seller", sellerId);
        var buyer = await shop.KeyAsync("buyer", "busy-buyer");
        Assert.Equal(HttpStatusCode.OK, (await seller.PutJsonAsync($"/api/v1/sellers/{sellerId}/settlement", new { cycleDays = 1 })).Status);
        Task CompleteOrder() => CompleteOrderAsync(shop, sku, seller, buyer, "busy-buyer");
        async Task<long> Available() => (await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger")).Body!["accounts"]!.AsArray()
            .SingleOrDefault(a => a!["accountId"]!.GetValue<string>() == "seller:available:USD")?["posted"]!.GetValue<long>() ?? 0;

        await CompleteOrder();
        Assert.Equal(HttpStatusCode.OK, (await shop.Admin.PostJsonAsync("/api/v1/admin/clock", new { advanceSeconds = TimeSpan.FromDays(1).TotalSeconds + 60 })).Status);

        // A release every second or so, each one before the 3-second check could have run since the one before.
        var releases = 0;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        long available;
        while ((available = await Available()) == 0 && DateTime.UtcNow < deadline)
        {
            await CompleteOrder();
            releases++;
            await Task.Delay(500);
        }
        Assert.True(available == 9_200, $"available {available} after {releases} releases");
        Assert.True(releases >= 2, $"only {releases} releases came in before the money matured");
    }

    [Fact]
    public async Task A_shorter_cycle_applies_to_money_released_after_the_change_not_to_money_already_pending()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("settle");
        await using var silo = await SiloProcess.StartAsync(SiloStorage.Postgres(connectionString), "settle-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string> { ["Clock__AllowTestControl"] = "true", ["Settlement__MaturityCheckPeriod"] = "00:00:01" });
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var sellerId = OrderTestShop.NewId("s");
        var sku = await shop.SkuAsync(sellerId, priceMinor: 10_000, stock: [("wh-de", 10)]);
        var seller = await shop.KeyAsync("seller", sellerId);
        var buyer = await shop.KeyAsync("buyer", "cycle-buyer");
        Task CompleteOrder() => CompleteOrderAsync(shop, sku, seller, buyer, "cycle-buyer");
        async Task<(long Pending, long Available)> Balances()
        {
            var accounts = (await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger")).Body!["accounts"]!.AsArray();
            long Posted(string id) => accounts.SingleOrDefault(a => a!["accountId"]!.GetValue<string>() == id)?["posted"]!.GetValue<long>() ?? 0;
            return (Posted("seller:pending:USD"), Posted("seller:available:USD"));
        }
        Task Advance(TimeSpan by) => shop.Admin.PostJsonAsync("/api/v1/admin/clock", new { advanceSeconds = by.TotalSeconds });

        Assert.Equal(HttpStatusCode.OK, (await seller.PutJsonAsync($"/api/v1/sellers/{sellerId}/settlement", new { cycleDays = 30 })).Status);
        await CompleteOrder();
        await Eventually.UntilAsync(Balances, b => b.Pending == 9_200, "the first net pending");
        // The seller shortens its cycle: the money released under T+30 stays held; what is released from now on waits T+1.
        Assert.Equal(HttpStatusCode.OK, (await seller.PutJsonAsync($"/api/v1/sellers/{sellerId}/settlement", new { cycleDays = 1 })).Status);
        await CompleteOrder();
        await Advance(TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1));

        var matured = await Eventually.UntilAsync(Balances, b => b.Available > 0, "the second net to mature");
        await Task.Delay(TimeSpan.FromSeconds(3)); // several maturity checks
        Assert.Equal((9_200L, 9_200L), matured);
        Assert.Equal((9_200L, 9_200L), await Balances());

        // The first net matures once its own 30 days have passed.
        await Advance(TimeSpan.FromDays(29));
        Assert.Equal((0L, 18_400L), await Eventually.UntilAsync(Balances, b => b.Pending == 0, "the first net to mature"));
    }

    [Fact]
    public async Task Money_matures_after_the_settlement_cycle_and_withdrawals_need_the_second_factor()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("settle");
        await using var silo = await SiloProcess.StartAsync(SiloStorage.Postgres(connectionString), "settle-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string> { ["Clock__AllowTestControl"] = "true", ["Settlement__MaturityCheckPeriod"] = "00:00:02" });
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var sellerId = OrderTestShop.NewId("s");
        var sku = await shop.SkuAsync(sellerId, priceMinor: 10_000, stock: [("wh-de", 5)]);
        var seller = await shop.KeyAsync("seller", sellerId);
        var buyer = await shop.KeyAsync("buyer", "settle-buyer");

        Assert.Equal(HttpStatusCode.BadRequest, (await seller.PutJsonAsync($"/api/v1/sellers/{sellerId}/settlement", new { cycleDays = 31 })).Status);
        Assert.Equal(HttpStatusCode.OK, (await seller.PutJsonAsync($"/api/v1/sellers/{sellerId}/settlement", new { cycleDays = 2 })).Status);
        // No seller can have an id of that shape: even an admin's setting is refused, not stored for it.
        var (badId, badIdProblem) = await shop.Admin.PutJsonAsync("/api/v1/sellers/a%20b/settlement", new { cycleDays = 3 });
        Assert.Equal(HttpStatusCode.BadRequest, badId);
        Assert.NotNull(badIdProblem!["errors"]!["sellerId"]);
        // Nor do the lists beside it take values outside their range.
        Assert.Equal(HttpStatusCode.BadRequest, (await shop.Admin.GetJsonAsync("/api/v1/service-tickets?limit=-1")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await shop.Admin.GetJsonAsync("/api/v1/stock/alerts?kind=5")).Status);
        Assert.Equal(HttpStatusCode.OK, (await shop.Admin.GetJsonAsync("/api/v1/service-tickets?limit=500")).Status);
        var (_, created) = await OrderTestShop.CheckoutAsync(buyer, "settle-buyer", OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 1 }]);
        var orderId = created!["orders"]![0]!["orderId"]!.GetValue<string>();
        await shop.ActAsync(shop.Admin, orderId, "payment-confirmations");
        await shop.ActAsync(seller, orderId, "ship", new { carrier = "DHL", trackingNumber = "JD2" });
        await shop.ActAsync(shop.Admin, orderId, "delivery");
        await shop.ActAsync(buyer, orderId, "confirm-receipt");

        // No payout account (which needs the second factor) yet: refused, the money would have nowhere to go.
        var (noAccount, problem) = await seller.PostJsonAsync($"/api/v1/sellers/{sellerId}/withdrawals", new { withdrawalId = "w-1", amountMinor = 100, currency = "USD", totpCode = "123456" });
        Assert.Equal(HttpStatusCode.Conflict, noAccount);
        Assert.Contains("payout account", problem!["detail"]!.GetValue<string>());

        // Enrol: the secret is shown once; confirm with the authenticator's code.
        var (enrolled, enrollment) = await seller.PostJsonAsync($"/api/v1/sellers/{sellerId}/second-factor/totp", new { });
        Assert.Equal(HttpStatusCode.Created, enrolled);
        var secret = Base32Decode(enrollment!["secretBase32"]!.GetValue<string>());
        Assert.StartsWith("otpauth://totp/", enrollment["otpAuthUri"]!.GetValue<string>());
        var code = Totp.Code(secret, Totp.StepAt(DateTimeOffset.UtcNow));
        Assert.Equal(HttpStatusCode.NoContent, (await seller.PostJsonAsync($"/api/v1/sellers/{sellerId}/second-factor/totp/confirmation", new { code })).Status);

        // The payout account changes only with a fresh code, and its number is never shown back.
        var account = new { holderName = "Shenzhen Cable Co", bankCountry = "DE", currency = "USD", accountNumber = "DE89 3704 0044 0532 0130 00" };
        Assert.Equal(HttpStatusCode.Forbidden, (await seller.PutJsonAsync($"/api/v1/sellers/{sellerId}/payout-account", new
            { account.holderName, account.bankCountry, account.currency, account.accountNumber, totpCode = "000000" })).Status);
        var (changed, payout) = await seller.PutJsonAsync($"/api/v1/sellers/{sellerId}/payout-account", new
            { account.holderName, account.bankCountry, account.currency, account.accountNumber, totpCode = Totp.Code(secret, Totp.StepAt(DateTimeOffset.UtcNow) + 1) });
        Assert.Equal(HttpStatusCode.OK, changed);
        Assert.Equal("3000", payout!["accountLast4"]!.GetValue<string>());
        var (_, shown) = await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/payout-account");
        Assert.DoesNotContain("370400440532", shown!.ToJsonString());
        var (replayed, _) = await seller.PostJsonAsync($"/api/v1/sellers/{sellerId}/withdrawals", new { withdrawalId = "w-1", amountMinor = 100, currency = "USD", totpCode = code });
        Assert.Equal(HttpStatusCode.Forbidden, replayed); // the confirmation used that code

        // Two days later in business time the money is available.
        var (_, clock) = await shop.Admin.PostJsonAsync("/api/v1/admin/clock", new { advanceSeconds = TimeSpan.FromDays(2).TotalSeconds + 60 });
        var businessNow = clock!["now"]!.GetValue<DateTimeOffset>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        long available;
        do
        {
            await Task.Delay(500);
            var ledger = (await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger")).Body!;
            available = ledger["accounts"]!.AsArray().SingleOrDefault(a => a!["accountId"]!.GetValue<string>() == "seller:available:USD")?["posted"]!.GetValue<long>() ?? 0;
        }
        while (available == 0 && DateTime.UtcNow < deadline);
        Assert.Equal(9_200, available);

        var (tooMuch, _) = await seller.PostJsonAsync($"/api/v1/sellers/{sellerId}/withdrawals",
            new { withdrawalId = "w-2", amountMinor = 9_201, currency = "USD", totpCode = Totp.Code(secret, Totp.StepAt(businessNow)) });
        Assert.Equal(HttpStatusCode.Conflict, tooMuch);
        var next = Totp.Code(secret, Totp.StepAt(businessNow) + 1); // the code of the next step: accepted within the drift window
        var (withdrawn, body) = await seller.PostJsonAsync($"/api/v1/sellers/{sellerId}/withdrawals", new { withdrawalId = "w-3", amountMinor = 9_000, currency = "USD", totpCode = next });
        Assert.Equal(HttpStatusCode.Created, withdrawn);
        Assert.Equal("applied", body!["outcome"]!.GetValue<string>());
        // Its answer lost, the client sends it again as it was, with the code the first attempt used up: the same outcome, no
        // second payout and no 403 that would push it to a new withdrawal id. Another amount under the id is refused.
        var (again, replay) = await seller.PostJsonAsync($"/api/v1/sellers/{sellerId}/withdrawals", new { withdrawalId = "w-3", amountMinor = 9_000, currency = "USD", totpCode = next });
        Assert.Equal(HttpStatusCode.OK, again);
        Assert.Equal("duplicate", replay!["outcome"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await seller.PostJsonAsync($"/api/v1/sellers/{sellerId}/withdrawals",
            new { withdrawalId = "w-3", amountMinor = 100, currency = "USD", totpCode = next })).Status);
        var after = (await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger")).Body!;
        Assert.Equal(200, after["accounts"]!.AsArray().Single(a => a!["accountId"]!.GetValue<string>() == "seller:available:USD")!["posted"]!.GetValue<long>());
        Assert.Equal(0, after["accounts"]!.AsArray().Sum(a => a!["posted"]!.GetValue<long>()));
        var other = await shop.KeyAsync("seller", OrderTestShop.NewId("s"));
        Assert.Equal(HttpStatusCode.Forbidden, (await other.PostJsonAsync($"/api/v1/sellers/{sellerId}/withdrawals", new { withdrawalId = "w-4", amountMinor = 1, currency = "USD", totpCode = "000000" })).Status);
    }

    [Fact]
    public async Task A_confirmed_second_factor_is_replaced_only_with_a_code_from_it_and_guessed_codes_lock_it()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("totp");
        await using var silo = await SiloProcess.StartAsync(SiloStorage.Postgres(connectionString), "totp-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string> { ["Clock__AllowTestControl"] = "true" });
        var shop = new OrderTestShop(silo);
        var sellerId = OrderTestShop.NewId("s");
        var seller = await shop.KeyAsync("seller", sellerId);
        var totp = $"/api/v1/sellers/{sellerId}/second-factor/totp";
        async Task<byte[]> EnrolAsync(object body)
        {
            var (status, enrollment) = await seller.PostJsonAsync(totp, body);
            Assert.True(status == HttpStatusCode.Created, $"{status} {enrollment}");
            return Base32Decode(enrollment!["secretBase32"]!.GetValue<string>());
        }
        Task<HttpStatusCode> PayoutAsync(string totpCode) => seller.PutJsonAsync($"/api/v1/sellers/{sellerId}/payout-account",
            new { holderName = "Shenzhen Cable Co", bankCountry = "DE", currency = "EUR", accountNumber = "DE89 3704 0044 0532 0130 00", totpCode })
            .ContinueWith(t => t.Result.Status);
        var step = Totp.StepAt(DateTimeOffset.UtcNow);

        // Before a factor is confirmed, enrolling again needs nothing (a lost QR code).
        await EnrolAsync(new { });
        var secret = await EnrolAsync(new { });
        Assert.Equal(HttpStatusCode.NoContent, (await seller.PostJsonAsync($"{totp}/confirmation", new { code = Totp.Code(secret, step) })).Status);

        // Confirmed: the key alone cannot enrol another authenticator, nor can a wrong or used code.
        Assert.Equal(HttpStatusCode.Forbidden, (await seller.PostJsonAsync(totp, new { })).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await seller.PostJsonAsync(totp, new { currentCode = "000000" })).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await seller.PostJsonAsync(totp, new { currentCode = Totp.Code(secret, step) })).Status);
        var replaced = await EnrolAsync(new { currentCode = Totp.Code(secret, step + 1) });
        Assert.Equal(HttpStatusCode.NoContent, (await seller.PostJsonAsync($"{totp}/confirmation", new { code = Totp.Code(replaced, step) })).Status);
        Assert.Equal(HttpStatusCode.Forbidden, await PayoutAsync(Totp.Code(secret, step - 1)));   // the old authenticator's codes are gone

        // Guessing: after five wrong codes in five minutes (the empty and the wrong current code, the old authenticator's, and
        // these two) even the right one is refused, until the window has passed.
        Assert.Equal(HttpStatusCode.Forbidden, await PayoutAsync("111111"));
        Assert.Equal(HttpStatusCode.Forbidden, await PayoutAsync("222222"));
        Assert.Equal(HttpStatusCode.Forbidden, await PayoutAsync(Totp.Code(replaced, step + 1)));
        // The lock is stored: a silo started again (its seller grain read from the database) refuses the right code too.
        silo.Kill();
        await silo.StartAsync();
        Assert.Equal(HttpStatusCode.Forbidden, await PayoutAsync(Totp.Code(replaced, Totp.StepAt(DateTimeOffset.UtcNow))));
        var (_, clock) = await shop.Admin.PostJsonAsync("/api/v1/admin/clock", new { advanceSeconds = 6 * 60 });
        var later = Totp.StepAt(clock!["now"]!.GetValue<DateTimeOffset>());
        Assert.Equal(HttpStatusCode.OK, await PayoutAsync(Totp.Code(replaced, later)));
    }

    [Fact]
    public async Task A_second_factor_being_replaced_stays_in_force_until_the_new_one_is_confirmed()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("totpswap");
        await using var silo = await SiloProcess.StartAsync(SiloStorage.Postgres(connectionString), "totpswap-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string> { ["Clock__AllowTestControl"] = "true" });
        var shop = new OrderTestShop(silo);
        var sellerId = OrderTestShop.NewId("s");
        var seller = await shop.KeyAsync("seller", sellerId);
        var totp = $"/api/v1/sellers/{sellerId}/second-factor/totp";
        Task<HttpStatusCode> PayoutAsync(string totpCode) => seller.PutJsonAsync($"/api/v1/sellers/{sellerId}/payout-account",
            new { holderName = "Shenzhen Cable Co", bankCountry = "DE", currency = "EUR", accountNumber = "DE89 3704 0044 0532 0130 00", totpCode })
            .ContinueWith(t => t.Result.Status);
        // Each step of the test on a business-clock step of its own, so no code is refused as used for another reason.
        async Task<long> NextStepAsync() =>
            Totp.StepAt((await shop.Admin.PostJsonAsync("/api/v1/admin/clock", new { advanceSeconds = 60 })).Body!["now"]!.GetValue<DateTimeOffset>());
        var (_, first) = await seller.PostJsonAsync(totp, new { });
        var old = Base32Decode(first!["secretBase32"]!.GetValue<string>());
        var step = await NextStepAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await seller.PostJsonAsync($"{totp}/confirmation", new { code = Totp.Code(old, step) })).Status);

        // The seller starts replacing it, with a code from it, and has not confirmed the new one yet.
        var (started, replacement) = await seller.PostJsonAsync(totp, new { currentCode = Totp.Code(old, step + 1) });
        Assert.Equal(HttpStatusCode.Created, started);
        var replacing = Base32Decode(replacement!["secretBase32"]!.GetValue<string>());

        // Meanwhile the key alone still cannot enrol an authenticator of its own ...
        Assert.Equal(HttpStatusCode.Forbidden, (await seller.PostJsonAsync(totp, new { })).Status);
        // ... and the factor in force is still the confirmed one: its codes guard the payout account, the new one's do not yet.
        step = await NextStepAsync();
        Assert.Equal(HttpStatusCode.Forbidden, await PayoutAsync(Totp.Code(replacing, step)));
        Assert.Equal(HttpStatusCode.OK, await PayoutAsync(Totp.Code(old, step)));

        // Confirmed, the new one takes over and the old one's codes are refused.
        step = await NextStepAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await seller.PostJsonAsync($"{totp}/confirmation", new { code = Totp.Code(replacing, step) })).Status);
        step = await NextStepAsync();
        Assert.Equal(HttpStatusCode.Forbidden, await PayoutAsync(Totp.Code(old, step)));
        Assert.Equal(HttpStatusCode.OK, await PayoutAsync(Totp.Code(replacing, step)));
    }

    [Fact]
    public async Task A_withdrawal_whose_ledger_write_failed_is_carried_out_when_retried_with_its_code_and_the_code_does_nothing_else()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("withdrawretry");
        var storage = SiloStorage.Postgres(connectionString);
        await using var silo = await SiloProcess.StartAsync(storage, "withdrawretry-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string> { ["Clock__AllowTestControl"] = "true", ["Settlement__MaturityCheckPeriod"] = "00:00:02" });
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var sellerId = OrderTestShop.NewId("s");
        var sku = await shop.SkuAsync(sellerId, priceMinor: 10_000, stock: [("wh-de", 5)]);
        var seller = await shop.KeyAsync("seller", sellerId);
        var buyer = await shop.KeyAsync("buyer", "retry-buyer");
        Assert.Equal(HttpStatusCode.OK, (await seller.PutJsonAsync($"/api/v1/sellers/{sellerId}/settlement", new { cycleDays = 1 })).Status);
        var (_, created) = await OrderTestShop.CheckoutAsync(buyer, "retry-buyer", OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 1 }]);
        var orderId = created!["orders"]![0]!["orderId"]!.GetValue<string>();
        await shop.ActAsync(shop.Admin, orderId, "payment-confirmations");
        await shop.ActAsync(seller, orderId, "ship", new { carrier = "DHL", trackingNumber = "JD4" });
        await shop.ActAsync(buyer, orderId, "confirm-receipt");
        var (_, enrollment) = await seller.PostJsonAsync($"/api/v1/sellers/{sellerId}/second-factor/totp", new { });
        var secret = Base32Decode(enrollment!["secretBase32"]!.GetValue<string>());
        var step = Totp.StepAt(DateTimeOffset.UtcNow);
        Assert.Equal(HttpStatusCode.NoContent, (await seller.PostJsonAsync($"/api/v1/sellers/{sellerId}/second-factor/totp/confirmation", new { code = Totp.Code(secret, step) })).Status);
        Task<HttpStatusCode> PayoutAsync(string totpCode) => seller.PutJsonAsync($"/api/v1/sellers/{sellerId}/payout-account",
            new { holderName = "Shenzhen Cable Co", bankCountry = "DE", currency = "USD", accountNumber = "DE89 3704 0044 0532 0130 00", totpCode })
            .ContinueWith(t => t.Result.Status);
        Assert.Equal(HttpStatusCode.OK, await PayoutAsync(Totp.Code(secret, step + 1)));
        var (_, clock) = await shop.Admin.PostJsonAsync("/api/v1/admin/clock", new { advanceSeconds = TimeSpan.FromDays(1).TotalSeconds + 60 });
        var businessStep = Totp.StepAt(clock!["now"]!.GetValue<DateTimeOffset>());
        async Task<long> Available() => (await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger")).Body!["accounts"]!.AsArray()
            .SingleOrDefault(a => a!["accountId"]!.GetValue<string>() == "seller:available:USD")?["posted"]!.GetValue<long>() ?? 0;
        await Eventually.UntilAsync(Available, available => available == 9_200, "the money to mature", TimeSpan.FromSeconds(30));

        // The ledger cannot store the withdrawal for a moment (as when the silo dies between the code check and the booking).
        await storage.ExecuteAsync("""
            CREATE FUNCTION refuse_withdrawal() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'ledger hiccup'; END $$;
            CREATE TRIGGER refuse_withdrawal BEFORE INSERT ON ledger_transfers FOR EACH ROW EXECUTE FUNCTION refuse_withdrawal();
            """);
        var code = Totp.Code(secret, businessStep);
        var withdrawal = new { withdrawalId = "w-r1", amountMinor = 5_000, currency = "USD", totpCode = code };
        var (failed, failure) = await seller.PostJsonAsync($"/api/v1/sellers/{sellerId}/withdrawals", withdrawal);
        await storage.ExecuteAsync("DROP TRIGGER refuse_withdrawal ON ledger_transfers; DROP FUNCTION refuse_withdrawal()");
        Assert.True((int)failed >= 500, $"{failed} {failure}");
        Assert.Equal(9_200, await Available());

        // Nothing was acknowledged: the client's retry of the same withdrawal, with the same code, is carried out once.
        var (retried, body) = await seller.PostJsonAsync($"/api/v1/sellers/{sellerId}/withdrawals", withdrawal);
        Assert.True(retried == HttpStatusCode.Created, $"{retried} {body}");
        Assert.Equal("applied", body!["outcome"]!.GetValue<string>());
        Assert.Equal(4_200, await Available());
        // The code stays used for anything else: another withdrawal, another amount under the id, a payout-account change.
        Assert.Equal(HttpStatusCode.Forbidden, (await seller.PostJsonAsync($"/api/v1/sellers/{sellerId}/withdrawals",
            new { withdrawalId = "w-r2", amountMinor = 1_000, currency = "USD", totpCode = code })).Status);
        Assert.Equal(HttpStatusCode.Forbidden, await PayoutAsync(code));
        Assert.Equal(4_200, await Available());
    }

    /// <summary>
    /// A withdrawal in a currency the payout account does not hold is refused (422) before its code is used: nothing converts a
    /// withdrawal, and 90.00 USD was booked as paid out to a EUR account.
    /// </summary>
    [Fact]
    public async Task A_withdrawal_in_a_currency_the_payout_account_cannot_receive_is_refused_and_its_code_stays_good()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("payoutcurrency");
        await using var silo = await SiloProcess.StartAsync(SiloStorage.Postgres(connectionString), "payoutcurrency-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string> { ["Clock__AllowTestControl"] = "true", ["Settlement__MaturityCheckPeriod"] = "00:00:02" });
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var sellerId = OrderTestShop.NewId("s");
        var sku = await shop.SkuAsync(sellerId, priceMinor: 10_000, stock: [("wh-de", 5)]);
        var seller = await shop.KeyAsync("seller", sellerId);
        var buyer = await shop.KeyAsync("buyer", "currency-buyer");
        Assert.Equal(HttpStatusCode.OK, (await seller.PutJsonAsync($"/api/v1/sellers/{sellerId}/settlement", new { cycleDays = 1 })).Status);
        await CompleteOrderAsync(shop, sku, seller, buyer, "currency-buyer");
        var (_, enrollment) = await seller.PostJsonAsync($"/api/v1/sellers/{sellerId}/second-factor/totp", new { });
        var secret = Base32Decode(enrollment!["secretBase32"]!.GetValue<string>());
        var step = Totp.StepAt(DateTimeOffset.UtcNow);
        Assert.Equal(HttpStatusCode.NoContent, (await seller.PostJsonAsync($"/api/v1/sellers/{sellerId}/second-factor/totp/confirmation", new { code = Totp.Code(secret, step) })).Status);
        Task<HttpStatusCode> PayoutAsync(string currency, string totpCode) => seller.PutJsonAsync($"/api/v1/sellers/{sellerId}/payout-account",
            new { holderName = "Shenzhen Cable Co", bankCountry = "DE", currency, accountNumber = "DE89 3704 0044 0532 0130 00", totpCode })
            .ContinueWith(t => t.Result.Status);
        Assert.Equal(HttpStatusCode.OK, await PayoutAsync("EUR", Totp.Code(secret, step + 1)));
        var (_, clock) = await shop.Admin.PostJsonAsync("/api/v1/admin/clock", new { advanceSeconds = TimeSpan.FromDays(1).TotalSeconds + 60 });
        var businessStep = Totp.StepAt(clock!["now"]!.GetValue<DateTimeOffset>());
        async Task<long> Available() => (await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger")).Body!["accounts"]!.AsArray()
            .SingleOrDefault(a => a!["accountId"]!.GetValue<string>() == "seller:available:USD")?["posted"]!.GetValue<long>() ?? 0;
        await Eventually.UntilAsync(Available, available => available == 9_200, "the money to mature", TimeSpan.FromSeconds(30));

        var code = Totp.Code(secret, businessStep);
        var (refused, problem) = await seller.PostJsonAsync($"/api/v1/sellers/{sellerId}/withdrawals",
            new { withdrawalId = "w-c1", amountMinor = 9_000, currency = "USD", totpCode = code });

        Assert.True(refused == HttpStatusCode.UnprocessableEntity, $"{refused} {problem}");
        Assert.Contains("EUR", problem!["detail"]!.GetValue<string>());
        Assert.Equal(9_200, await Available());
        // The code was not used: it changes the payout account to one in dollars, and the withdrawal then goes through.
        Assert.Equal(HttpStatusCode.OK, await PayoutAsync("USD", code));
        var (withdrawn, body) = await seller.PostJsonAsync($"/api/v1/sellers/{sellerId}/withdrawals",
            new { withdrawalId = "w-c1", amountMinor = 9_000, currency = "USD", totpCode = Totp.Code(secret, businessStep + 1) });
        Assert.True(withdrawn == HttpStatusCode.Created, $"{withdrawn} {body}");
        Assert.Equal(200, await Available());
    }

    [Fact]
    public async Task A_payout_account_change_whose_write_failed_is_carried_out_when_retried_with_its_code()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("payoutretry");
        var storage = SiloStorage.Postgres(connectionString);
        await using var silo = await SiloProcess.StartAsync(storage, "payoutretry-" + Guid.NewGuid().ToString("N")[..8]);
        var shop = new OrderTestShop(silo);
        var sellerId = OrderTestShop.NewId("s");
        var seller = await shop.KeyAsync("seller", sellerId);
        var (_, enrollment) = await seller.PostJsonAsync($"/api/v1/sellers/{sellerId}/second-factor/totp", new { });
        var secret = Base32Decode(enrollment!["secretBase32"]!.GetValue<string>());
        var step = Totp.StepAt(DateTimeOffset.UtcNow);
        Assert.Equal(HttpStatusCode.NoContent, (await seller.PostJsonAsync($"/api/v1/sellers/{sellerId}/second-factor/totp/confirmation", new { code = Totp.Code(secret, step) })).Status);
        var change = new { holderName = "Shenzhen Cable Co", bankCountry = "DE", currency = "EUR", accountNumber = "DE89 3704 0044 0532 0130 00", totpCode = Totp.Code(secret, step + 1) };

        // The account's state cannot be stored with the new payout account in it for a moment (a storage hiccup).
        await storage.ExecuteAsync("""
            CREATE FUNCTION refuse_payout() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'storage hiccup'; END $$;
            CREATE TRIGGER refuse_payout BEFORE INSERT OR UPDATE ON grain_state FOR EACH ROW
                WHEN (NEW.state_name = 'seller-account' AND position(convert_to('Shenzhen Cable Co', 'UTF8') in NEW.payload) > 0)
                EXECUTE FUNCTION refuse_payout();
            """);
        var (failed, failure) = await seller.PutJsonAsync($"/api/v1/sellers/{sellerId}/payout-account", change);
        await storage.ExecuteAsync("DROP TRIGGER refuse_payout ON grain_state; DROP FUNCTION refuse_payout()");
        Assert.True((int)failed >= 500, $"{failed} {failure}");
        Assert.Equal(HttpStatusCode.NotFound, (await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/payout-account")).Status);

        // Nothing was stored, the code included: the client's retry is carried out.
        var (retried, account) = await seller.PutJsonAsync($"/api/v1/sellers/{sellerId}/payout-account", change);
        Assert.True(retried == HttpStatusCode.OK, $"{retried} {account}");
        Assert.Equal("3000", account!["accountLast4"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Forbidden, (await seller.PutJsonAsync($"/api/v1/sellers/{sellerId}/payout-account", change)).Status);
    }

    private static byte[] Base32Decode(string text)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var bytes = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (var c in text)
        {
            buffer = (buffer << 5) | alphabet.IndexOf(c);
            bits += 5;
            if (bits >= 8)
            {
                bytes.Add((byte)(buffer >> (bits - 8)));
                bits -= 8;
            }
        }
        return bytes.ToArray();
    }
}
