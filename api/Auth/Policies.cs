using Microsoft.AspNetCore.Authorization;

namespace Orleans.Trade.Api.Auth;

/// <summary>Named authorization policies by role; ownership is checked per resource by the endpoints and grains.</summary>
public static class Policies
{
    public const string Admins = "admins";
    public const string CatalogWriters = "catalog-writers";
    public const string AlertReaders = "alert-readers";
    public const string Buyers = "buyers";
    public const string Reviewers = "reviewers";
    public const string Sellers = "sellers";
    /// <summary>A carrier's feed of tracking events: the carrier's own keys, or an admin sending them for it (R-LOG-5).</summary>
    public const string CarrierFeeds = "carrier-feeds";
    /// <summary>Storefront events for the conversion funnel (R-DAT-2): the storefront's keys, or an admin sending them for it.</summary>
    public const string StorefrontFeeds = "storefront-feeds";

    public static void Add(AuthorizationOptions options)
    {
        options.AddPolicy(Admins, p => p.RequireRole(Roles.Admin));
        options.AddPolicy(CatalogWriters, p => p.RequireRole(Roles.Admin, Roles.Seller, Roles.Erp));
        options.AddPolicy(AlertReaders, p => p.RequireRole(Roles.Admin, Roles.Seller, Roles.Erp, Roles.Analyst));
        options.AddPolicy(Buyers, p => p.RequireRole(Roles.Admin, Roles.Buyer));
        options.AddPolicy(Reviewers, p => p.RequireRole(Roles.Admin, Roles.Analyst));
        options.AddPolicy(Sellers, p => p.RequireRole(Roles.Seller));
        options.AddPolicy(CarrierFeeds, p => p.RequireRole(Roles.Admin, Roles.Carrier));
        options.AddPolicy(StorefrontFeeds, p => p.RequireRole(Roles.Admin, Roles.Storefront));
    }
}
