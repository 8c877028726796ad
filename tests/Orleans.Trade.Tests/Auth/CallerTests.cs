using System.Security.Claims;
using Orleans.Trade.Api.Auth;

namespace Orleans.Trade.Tests.Auth;

/// <summary>Who is calling: from an API key's identity as it was verified, or from any principal's claims.</summary>
public sealed class CallerTests
{
    public static TheoryData<Caller> Callers => new()
    {
        new Caller("k1", Roles.Buyer, "buyer-1"),
        new Caller("k2", Roles.Admin, null),
        new Caller("k3", Roles.Erp, "seller-9"),
    };

    [Theory]
    [MemberData(nameof(Callers))]
    public void An_api_key_identity_answers_its_caller_and_its_claims_say_the_same(Caller caller)
    {
        var claims = Claims(caller);
        var fromKey = Caller.From(new ClaimsPrincipal(new CallerIdentity(caller, claims, "ApiKey")));
        var fromClaims = Caller.From(new ClaimsPrincipal(new ClaimsIdentity(claims, "ApiKey", Caller.SubjectClaim, ClaimTypes.Role)));

        Assert.Same(caller, fromKey);
        Assert.Equal(caller, fromClaims);
    }

    [Fact]
    public void A_principal_without_claims_is_nobody()
    {
        Assert.Equal(new Caller("", "", null), Caller.From(new ClaimsPrincipal(new ClaimsIdentity())));
    }

    private static List<Claim> Claims(Caller caller)
    {
        var claims = new List<Claim> { new(Caller.KeyIdClaim, caller.KeyId), new(ClaimTypes.Role, caller.Role) };
        if (caller.Subject is not null)
        {
            claims.Add(new Claim(Caller.SubjectClaim, caller.Subject));
        }
        return claims;
    }
}
