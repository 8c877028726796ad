using System.Security.Claims;

namespace Orleans.Trade.Api.Auth;

/// <summary>Who is calling, read from the authenticated principal.</summary>
public sealed record Caller(string KeyId, string Role, string? Subject)
{
    public const string SubjectClaim = "sub";
    public const string KeyIdClaim = "key_id";

    public bool IsAdmin => Role == Roles.Admin;

    /// <summary>The seller a seller or ERP key acts for; null for platform staff, who may act for any seller.</summary>
    public string? ActingSellerId => Role is Roles.Seller or Roles.Erp ? Subject : null;

    public static Caller From(ClaimsPrincipal user) => new(
        user.FindFirstValue(KeyIdClaim) ?? "",
        user.FindFirstValue(ClaimTypes.Role) ?? "",
        user.FindFirstValue(SubjectClaim));
}
