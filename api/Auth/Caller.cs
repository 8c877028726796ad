using System.Security.Claims;

namespace Orleans.Trade.Api.Auth;

/// <summary>Who is calling, read from the authenticated principal.</summary>
public sealed record Caller(string KeyId, string Role, string? Subject)
{
    public const string SubjectClaim = "sub";
    public const string KeyIdClaim = "key_id";

    public bool IsAdmin => Role == Roles.Admin;

    /// <summary>
    /// Whose request budget the caller spends (computed once: a verified key's caller is shared by its requests): a buyer's,
    /// seller's, ERP's or carrier's keys share their subject's; a staff key has its own.
    /// </summary>
    public string BudgetId { get; } = Subject is { } subject && Roles.RequiresSubject(Role) ? $"{Role}:{subject}" : $"key:{KeyId}";

    /// <summary>
    /// The caller as audit trails and idempotency scopes name it: role and subject (<c>analyst:ana</c>), or role and key id for a
    /// key that acts for no subject.
    /// </summary>
    public string Name => Subject is null ? $"{Role}:{KeyId}" : $"{Role}:{Subject}";

    /// <summary>The seller a seller or ERP key acts for; null for platform staff, who may act for any seller.</summary>
    public string? ActingSellerId => Role is Roles.Seller or Roles.Erp ? Subject : null;

    /// <summary>
    /// A 403 when this key acts for a seller other than <paramref name="sellerId"/>, saying it cannot <paramref name="doing"/>
    /// ("ship the orders of"); null when it may act for that seller (its own key, or a key acting for no seller).
    /// </summary>
    public Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult? RefusedFor(string sellerId, string doing) =>
        ActingSellerId is { } acting && acting != sellerId
            ? Common.Problems.Forbidden($"This key acts for seller '{acting}' and cannot {doing} seller '{sellerId}'.")
            : null;

    /// <summary>
    /// The caller an API key's identity was built for, as it is (every request of a hot checkout asks); otherwise read from the
    /// principal's claims.
    /// </summary>
    public static Caller From(ClaimsPrincipal user) => user.Identity is CallerIdentity { Caller: var caller }
        ? caller
        : new(user.FindFirstValue(KeyIdClaim) ?? "", user.FindFirstValue(ClaimTypes.Role) ?? "", user.FindFirstValue(SubjectClaim));
}

/// <summary>An API key's claims identity that also keeps the <see cref="Caller"/> its claims were made from.</summary>
public sealed class CallerIdentity(Caller caller, IEnumerable<Claim> claims, string authenticationType)
    : ClaimsIdentity(claims, authenticationType, Caller.SubjectClaim, ClaimTypes.Role)
{
    public Caller Caller { get; } = caller;
}
