namespace Orleans.Trade.Api.Auth;

/// <summary>The roles an API key can carry.</summary>
public static class Roles
{
    public const string Admin = "admin";
    public const string Seller = "seller";
    public const string Buyer = "buyer";
    public const string Analyst = "analyst";
    public const string Erp = "erp";
    /// <summary>A carrier's integration (subject: the carrier's name as sellers give it when shipping): records deliveries (R-LOG-5).</summary>
    public const string Carrier = "carrier";
    /// <summary>The storefront's backend: posts its buyers' browsing, cart and checkout events for the conversion funnel (R-DAT-2).</summary>
    public const string Storefront = "storefront";

    public static readonly IReadOnlyList<string> All = [Admin, Seller, Buyer, Analyst, Erp, Carrier, Storefront];

    /// <summary>Roles whose key must name the seller, buyer or carrier it acts for.</summary>
    public static bool RequiresSubject(string role) => role is Seller or Buyer or Erp or Carrier;
}
