using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Orleans.Trade.Api.Auth;
using Orleans.Trade.Api.Common;
using Orleans.Trade.Wallets;

namespace Orleans.Trade.Api.Wallets;

public sealed record SellerLedgerResponse(
    string SellerId,
    [property: Description("Every account of the seller's books but the order escrows, and one page of escrow accounts; by id.")]
    IReadOnlyList<LedgerAccountView> Accounts,
    [property: Description("All escrow accounts in the books, counted and summed, and the cursor of their next page.")]
    EscrowSummary Escrow);

public sealed record EscrowSummary(
    [property: Description("Escrow accounts in the books: one per order with money held, and per settled order not yet archived.")]
    int Accounts,
    [property: Description("What the escrows hold, per currency, and for how many orders.")]
    IReadOnlyList<EscrowHeld> Held,
    [property: Description("Pass as escrowCursor for the next page of escrow accounts; null on the last page.")]
    string? NextCursor);

/// <summary>Either or both: the settlement cycle T+N and the ISO 4217 currency the seller's net is converted into at release.</summary>
public sealed record SettlementRequest(int? CycleDays, string? Currency);

/// <summary><c>currency</c> null: each order settles in its own currency.</summary>
public sealed record SettlementResponse(string SellerId, int CycleDays, string? Currency);

public sealed record DepositRequest([Required] string? DepositId, [Required] Orleans.Trade.Api.Inventory.MoneyRequest? Amount);

public sealed record DepositResponse(string SellerId, string DepositId, Orleans.Trade.Common.Money Amount);

public sealed record TotpCodeRequest([Required] string? Code);

/// <summary>Starting an enrolment: a seller with a confirmed second factor gives a current code from it.</summary>
public sealed record TotpEnrollmentRequest(string? CurrentCode);

public sealed record PayoutAccountRequest(
    [Required] string? HolderName, [Required] string? BankCountry, [Required] string? Currency, [Required] string? AccountNumber, [Required] string? TotpCode);

public sealed record WithdrawalRequest([Required] string? WithdrawalId, [Required] long? AmountMinor, [Required] string? Currency, [Required] string? TotpCode);

public sealed record WithdrawalResponse(string WithdrawalId, Orleans.Trade.Common.Money Amount, string Outcome);

/// <summary>Seller balances from the double-entry ledger: escrows, pending, available, and the platform's share.</summary>
public static class WalletsApi
{
    public static IEndpointRouteBuilder MapWalletsApiV1(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1/tax").WithTags("Wallets").MapGet("/ioss-statement", IossStatement).RequireAuthorization(Policies.Reviewers)
            .ProducesProblems(403);
        var api = app.MapGroup("/api/v1/sellers/{sellerId}").WithTags("Wallets");
        api.MapGet("/ledger", GetLedger).RequireAuthorization().ProducesProblems(403, 404);
        api.MapGet("/statement.csv", Statement).RequireAuthorization().Produces<string>(StatusCodes.Status200OK, "text/csv")
            .ProducesValidationProblem().ProducesProblems(403, 404);
        api.MapPut("/settlement", PutSettlement).RequireAuthorization(Policies.CatalogWriters).ProducesProblems(403);
        // The body is optional, but one that is not JSON is refused (400).
        api.MapPost("/second-factor/totp", BeginTotp).RequireAuthorization(Policies.Sellers).ProducesProblems(400, 403);
        api.MapPost("/second-factor/totp/confirmation", ConfirmTotp).RequireAuthorization(Policies.Sellers).ProducesProblems(403, 409, 422);
        api.MapPost("/withdrawals", Withdraw).RequireAuthorization(Policies.Sellers).ProducesProblems(403, 409, 422);
        api.MapPost("/deposits", FundDeposit).RequireAuthorization(Policies.Admins).ProducesProblems(403, 409);
        api.MapPut("/payout-account", PutPayoutAccount).RequireAuthorization(Policies.Sellers).ProducesProblems(403);
        api.MapGet("/payout-account", GetPayoutAccount).RequireAuthorization(Policies.Sellers).ProducesProblems(403, 404);
        return app;
    }

    private const int MaxStatementLines = 100_000;

    /// <summary>R-SET-2: VAT collected under IOSS per destination country and currency, booked when escrow was released.</summary>
    public static async Task<Results<Ok<IReadOnlyList<TaxCollected>>, ValidationProblem>> IossStatement(
        ILedgerQueries queries, CancellationToken cancellationToken, DateTimeOffset? from = null, DateTimeOffset? to = null)
    {
        var start = from ?? DateTimeOffset.MinValue.AddYears(1);
        var end = to ?? DateTimeOffset.MaxValue.AddYears(-1);
        if (start >= end)
        {
            return new Validation().Add("from", "from must be earlier than to.").Problem();
        }
        return TypedResults.Ok(await queries.TaxCollectedAsync(start, end, cancellationToken));
    }

    /// <summary>R-SET-1: every ledger line of the seller in [from, to), as CSV (RFC 4180), amounts in minor units.</summary>
    public static async Task<IResult> Statement(string sellerId, ClaimsPrincipal user, ILedgerQueries queries, IGrainFactory grains,
        CancellationToken cancellationToken, DateTimeOffset? from = null, DateTimeOffset? to = null)
    {
        var caller = Caller.From(user);
        if (!(caller.Role is Roles.Admin or Roles.Analyst || (caller.Role is Roles.Seller or Roles.Erp && caller.Subject == sellerId)))
        {
            return Problems.Forbidden("This key may read only its own seller's statements.");
        }
        if (!Ids.IsValid(sellerId))
        {
            return Problems.NotFound($"Seller '{sellerId}' has no ledger."); // as /ledger answers; no seller has an id of that shape
        }
        var start = from ?? DateTimeOffset.MinValue.AddYears(1);
        var end = to ?? DateTimeOffset.MaxValue.AddYears(-1);
        if (start >= end)
        {
            return new Validation().Add("from", "from must be earlier than to.").Problem();
        }
        // A line is stamped when the ledger applies it and stored by its next write: read while that write was in flight, a period
        // that had just ended lacked it, and the next period's statement starts after it. The ledger's view answers once every
        // write in flight is stored, so a statement of a period that has ended holds all of its lines.
        await grains.GetGrain<ISellerLedgerGrain>(sellerId).View(null, 1);
        var lines = await queries.StatementAsync(sellerId, start, end, MaxStatementLines + 1, cancellationToken);
        if (lines.Count > MaxStatementLines)
        {
            return new Validation().Add("from", $"The period holds more than {MaxStatementLines} lines; ask for a shorter one.").Problem();
        }
        var csv = new System.Text.StringBuilder("at,transferId,kind,debitAccount,creditAccount,amountMinor,currency\r\n");
        foreach (var l in lines)
        {
            csv.Append(System.FormattableString.Invariant($"{l.At:O},{Cell(l.TransferId)},{l.Kind},{Cell(l.DebitAccount)},{Cell(l.CreditAccount)},{l.AmountMinor},{l.Currency}\r\n"));
        }
        return Results.Text(csv.ToString(), "text/csv; charset=utf-8");
    }

    private static string Cell(string value) =>
        value.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;

    private static bool IsSellerSelf(Caller caller, string sellerId) => caller.Role == Roles.Seller && caller.Subject == sellerId;

    /// <summary>R-SET-1, R-SET-2: the settlement cycle, the settlement currency, or both; a currency needs an exchange rate.</summary>
    public static async Task<Results<Ok<SettlementResponse>, ValidationProblem, ProblemHttpResult>> PutSettlement(
        string sellerId, SettlementRequest request, ClaimsPrincipal user, IGrainFactory grains)
    {
        var caller = Caller.From(user);
        if (!caller.IsAdmin && !IsSellerSelf(caller, sellerId))
        {
            return Problems.Forbidden("Only the seller or an admin sets the settlement cycle and currency.");
        }
        var v = new Validation();
        v.Identifier("sellerId", sellerId);
        if (request.CycleDays is null && request.Currency is null)
        {
            v.Add("cycleDays", "Give cycleDays, currency, or both.");
        }
        v.Range("cycleDays", request.CycleDays, SettlementCycle.MinDays, SettlementCycle.MaxDays);
        if (request.Currency is not null)
        {
            v.Currency("currency", request.Currency);
        }
        if (!v.IsValid)
        {
            return v.Problem();
        }
        var account = grains.GetGrain<ISellerAccountGrain>(sellerId);
        switch (await account.ChangeSettlement(request.CycleDays, request.Currency))
        {
            case SettlementChange.Applied:
                break;
            case SettlementChange.NoFxRate:
                return v.Add("currency", $"There is no exchange rate for {request.Currency}; load one (PUT /api/v1/fx-rates) or choose another currency.").Problem();
            case var refused:
                return v.Add(refused == SettlementChange.CycleOutOfRange ? "cycleDays" : "currency", $"The settlement change was refused: {refused}.").Problem();
        }
        var settings = await account.Settlement();
        return TypedResults.Ok(new SettlementResponse(sellerId, settings.CycleDays, settings.Currency));
    }

    /// <summary>
    /// R-SET-3, R-DIS-4: money put on a seller's deposit (admin), which backs refunds after release. Idempotent by depositId:
    /// the same deposit again answers the same; the id with another amount is a conflict.
    /// </summary>
    public static async Task<Results<Created<DepositResponse>, ValidationProblem, ProblemHttpResult>> FundDeposit(
        string sellerId, DepositRequest request, IGrainFactory grains)
    {
        var v = new Validation();
        if (!Ids.IsValid(sellerId))
        {
            v.Add("sellerId", "sellerId must be 1-64 characters of letters, digits, '.', '_' or '-'.");
        }
        v.Identifier("depositId", request.DepositId);
        if (request.Amount is null)
        {
            v.Add("amount", "amount is required: {amountMinor, currency}.");
        }
        else
        {
            v.Required("amount.amountMinor", request.Amount.AmountMinor);
            v.Range("amount.amountMinor", request.Amount.AmountMinor, 1, 1_000_000_000_000);
            v.Currency("amount.currency", request.Amount.Currency);
        }
        if (!v.IsValid)
        {
            return v.Problem();
        }
        var amount = new Orleans.Trade.Common.Money(request.Amount!.AmountMinor!.Value, request.Amount.Currency!);
        try
        {
            await grains.GetGrain<ISellerLedgerGrain>(sellerId).FundDeposit(request.DepositId!, amount);
        }
        catch (ArgumentException ex)
        {
            return Problems.Conflict(ex.Message);
        }
        return TypedResults.Created($"/api/v1/sellers/{sellerId}/deposits/{request.DepositId}", new DepositResponse(sellerId, request.DepositId!, amount));
    }

    /// <summary>
    /// Starts TOTP enrolment; the secret is shown once. Only the seller's own key may do it, and a confirmed second factor is
    /// replaced only with a current code from it (<c>currentCode</c>): otherwise a leaked API key alone could enrol its own
    /// authenticator and move the payout account and the money (R-PAY-4).
    /// </summary>
    public static async Task<Results<Created<TotpEnrollment>, ProblemHttpResult>> BeginTotp(string sellerId, TotpEnrollmentRequest? request,
        ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!IsSellerSelf(Caller.From(user), sellerId))
        {
            return Problems.Forbidden("Only the seller enrols its own second factor.");
        }
        var account = grains.GetGrain<ISellerAccountGrain>(sellerId);
        if (await account.VerifySecondFactor(request?.CurrentCode ?? "") is not (SecondFactorResult.NotEnrolled or SecondFactorResult.Verified))
        {
            return Problems.Forbidden("A second factor is enrolled: replacing it needs currentCode, a code from it that was not used before.");
        }
        var enrollment = await account.BeginTotpEnrollment();
        return TypedResults.Created($"/api/v1/sellers/{sellerId}/second-factor/totp", enrollment);
    }

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> ConfirmTotp(
        string sellerId, TotpCodeRequest request, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!IsSellerSelf(Caller.From(user), sellerId))
        {
            return Problems.Forbidden("Only the seller confirms its own second factor.");
        }
        if (request.Code is null)
        {
            return new Validation().Add("code", "code is required: the 6 digits the authenticator shows.").Problem();
        }
        return await grains.GetGrain<ISellerAccountGrain>(sellerId).ConfirmTotp(request.Code) switch
        {
            SecondFactorResult.Verified => TypedResults.NoContent(),
            SecondFactorResult.NotEnrolled => Problems.Conflict("Start enrolment first (POST .../second-factor/totp)."),
            _ => Problems.Unprocessable("The code does not match; check the authenticator's clock and try the next code."),
        };
    }

    /// <summary>R-PAY-4: changing where payouts go needs the second factor; the account number is never shown back in full.</summary>
    public static async Task<Results<Ok<PayoutAccountView>, ValidationProblem, ProblemHttpResult>> PutPayoutAccount(
        string sellerId, PayoutAccountRequest request, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!IsSellerSelf(Caller.From(user), sellerId))
        {
            return Problems.Forbidden("Only the seller changes its own payout account.");
        }
        var v = new Validation();
        var holder = v.RequiredText("holderName", request.HolderName, 100);
        v.Country("bankCountry", request.BankCountry);
        v.Currency("currency", request.Currency);
        var account = request.AccountNumber?.Replace(" ", "", StringComparison.Ordinal);
        if (account is null || account.Length is < 8 or > 34 || !account.All(char.IsAsciiLetterOrDigit))
        {
            v.Add("accountNumber", "accountNumber is required: an IBAN or account number of 8 to 34 letters and digits.");
        }
        if (request.TotpCode is null) v.Add("totpCode", "totpCode is required: changing the payout account needs the second factor.");
        if (!v.IsValid)
        {
            return v.Problem();
        }
        var (secondFactor, changed) = await grains.GetGrain<ISellerAccountGrain>(sellerId)
            .ChangePayoutAccount(holder!, request.BankCountry!, request.Currency!, account!.ToUpperInvariant(), request.TotpCode!);
        return changed is not null
            ? TypedResults.Ok(changed)
            : Problems.Forbidden(secondFactor == SecondFactorResult.NotEnrolled
                ? "Changing the payout account needs a TOTP second factor: enrol one first."
                : "The second-factor code is wrong or was already used.");
    }

    public static async Task<Results<Ok<PayoutAccountView>, ProblemHttpResult>> GetPayoutAccount(string sellerId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!IsSellerSelf(Caller.From(user), sellerId))
        {
            return Problems.Forbidden("Only the seller reads its own payout account.");
        }
        return await grains.GetGrain<ISellerAccountGrain>(sellerId).PayoutAccount() is { } account
            ? TypedResults.Ok(account)
            : Problems.NotFound("No payout account is set.");
    }

    /// <summary>R-PAY-4: a withdrawal needs the seller's TOTP code; without an enrolled second factor it is refused.</summary>
    public static async Task<Results<Created<WithdrawalResponse>, Ok<WithdrawalResponse>, ValidationProblem, ProblemHttpResult>> Withdraw(
        string sellerId, WithdrawalRequest request, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!IsSellerSelf(Caller.From(user), sellerId))
        {
            return Problems.Forbidden("Only the seller withdraws its own money.");
        }
        var v = new Validation();
        v.Identifier("withdrawalId", request.WithdrawalId);
        v.Required("amountMinor", request.AmountMinor);
        v.Range("amountMinor", request.AmountMinor, 1, 1_000_000_000_000);
        v.Currency("currency", request.Currency);
        if (request.TotpCode is null) v.Add("totpCode", "totpCode is required: withdrawals need the second factor.");
        if (!v.IsValid)
        {
            return v.Problem();
        }
        var amount = new Orleans.Trade.Common.Money(request.AmountMinor!.Value, request.Currency!);
        var ledger = grains.GetGrain<ISellerLedgerGrain>(sellerId);
        // A retry of a booked withdrawal (its answer was lost) moves no money: it is answered without its code, which the first
        // attempt used up, so the client is not led into a second withdrawal under a new id.
        if (!await ledger.HasWithdrawal(request.WithdrawalId!))
        {
            var account = grains.GetGrain<ISellerAccountGrain>(sellerId);
            if (await account.PayoutAccount() is not { } payout)
            {
                return Problems.Conflict("No payout account is set: set one (PUT .../payout-account) before withdrawing, so the money has somewhere to go.");
            }
            if (payout.Currency != amount.Currency)
            {
                // Nothing converts a withdrawal: paid out as it is, the bank would get money in a currency its account does not hold.
                // Checked before the code, which stays good for a withdrawal the account can receive.
                return Problems.Unprocessable($"The payout account receives {payout.Currency}; this withdrawal is in {amount.Currency}. Withdraw "
                    + $"{payout.Currency}, or set a payout account in {amount.Currency} (PUT .../payout-account) first.");
            }
            // Bound to this withdrawal: if its booking fails after the code is used (a 503, a silo lost), the client's retry of
            // the same withdrawal with the same code is carried out; the code stays used for anything else.
            var secondFactor = await account.VerifySecondFactorFor(request.TotpCode!,
                $"withdrawal\u001f{request.WithdrawalId}\u001f{amount.AmountMinor}\u001f{amount.Currency}");
            if (secondFactor != SecondFactorResult.Verified)
            {
                return Problems.Forbidden(secondFactor == SecondFactorResult.NotEnrolled
                    ? "Withdrawals need a TOTP second factor: enrol one first (POST .../second-factor/totp)."
                    : "The second-factor code is wrong or was already used.");
            }
        }
        return await ledger.Withdraw(request.WithdrawalId!, amount) switch
        {
            WithdrawalResult.Applied => TypedResults.Created($"/api/v1/sellers/{sellerId}/withdrawals/{request.WithdrawalId}",
                new WithdrawalResponse(request.WithdrawalId!, amount, "applied")),
            WithdrawalResult.AlreadyApplied => TypedResults.Ok(new WithdrawalResponse(request.WithdrawalId!, amount, "duplicate")),
            WithdrawalResult.InsufficientFunds => Problems.Conflict("The available balance does not cover this withdrawal; pending money becomes available after the settlement cycle."),
            _ => Problems.Unprocessable($"Withdrawal '{request.WithdrawalId}' was refused (its id may have been used for another amount)."),
        };
    }

    private const int MaxEscrowPage = 1_000;

    /// <summary>
    /// The seller's balances; order escrows come a page at a time (<paramref name="escrowLimit"/>, default 100, at most 1,000,
    /// after <paramref name="escrowCursor"/>), with their count and total held per currency.
    /// </summary>
    public static async Task<Results<Ok<SellerLedgerResponse>, ValidationProblem, ProblemHttpResult>> GetLedger(string sellerId, ClaimsPrincipal user,
        IGrainFactory grains,
        [Description("The escrow.nextCursor of the previous page; absent for the first.")] string? escrowCursor = null,
        [Description("Escrow accounts per page, 1 to 1,000.")] int escrowLimit = 100)
    {
        var caller = Caller.From(user);
        if (!(caller.Role is Roles.Admin or Roles.Analyst || (caller.Role is Roles.Seller or Roles.Erp && caller.Subject == sellerId)))
        {
            return Problems.Forbidden("This key may read only its own seller's ledger.");
        }
        if (!Ids.IsValid(sellerId))
        {
            return Problems.NotFound($"Seller '{sellerId}' has no ledger.");
        }
        var v = new Validation();
        v.Range("escrowLimit", escrowLimit, 1, MaxEscrowPage);
        if (escrowCursor is not null && !(escrowCursor.StartsWith("escrow:", StringComparison.Ordinal) && Ids.IsValid(escrowCursor["escrow:".Length..])))
        {
            v.Add("escrowCursor", "escrowCursor must be the escrow.nextCursor of a previous page.");
        }
        if (!v.IsValid)
        {
            return v.Problem();
        }
        var view = await grains.GetGrain<ISellerLedgerGrain>(sellerId).View(escrowCursor, escrowLimit);
        return TypedResults.Ok(new SellerLedgerResponse(sellerId, view.Accounts, new EscrowSummary(view.EscrowAccounts, view.Held, view.NextEscrowCursor)));
    }
}
