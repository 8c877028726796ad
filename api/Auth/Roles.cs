namespace Orleans.Trade.Api.Auth;

/// <summary>The roles an API key can carry.</summary>
public static class Roles
{
    public const string Admin = "admin";
    public const string Seller = "seller";
    public const string Buyer = "buyer";
    public const string Analyst = "analyst";
    public const string Erp = "erp";

    public static readonly IReadOnlyList<string> All = [Admin, Seller, Buyer, Analyst, Erp];

    /// <summary>Roles whose key must name the seller or buyer it acts for.</summary>
    public static bool RequiresSubject(string role) => role is Seller or Buyer or Erp;
}
