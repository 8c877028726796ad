using Microsoft.Extensions.Configuration;
using Orleans.Trade.Api.Logistics;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Tests.Logistics;

/// <summary>
/// A carrier's own status codes read through its table (R-LOG-5, R-ROLE-3): built-in tables under configured ones, a code the
/// table does not list never guessed, and a table that names no kind refused at start; and how carriers and tracking numbers match.
/// </summary>
public sealed class CarrierStatusCodesTests
{
    private static CarrierStatusCodes Codes(params (string Key, string? Value)[] settings) =>
        CarrierStatusCodes.From(new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, s.Value))).Build());

    [Fact]
    public void A_built_in_carriers_codes_map_to_kinds_ignoring_case_and_spaces()
    {
        var codes = Codes();
        Assert.Equal(TrackingEventKind.Delivered, codes.Map("dhl", "OK"));
        Assert.Equal(TrackingEventKind.OutForDelivery, codes.Map("dhl", " wc "));
        Assert.Equal(TrackingEventKind.Customs, codes.Map("fedex", "CD"));
        Assert.Equal(TrackingEventKind.Exception, codes.Map("fedex", "de"));
        Assert.True(codes.Knows("dhl"));
    }

    [Fact]
    public void A_code_the_carriers_table_does_not_list_is_not_guessed()
    {
        var codes = Codes();
        Assert.Null(codes.Map("dhl", "DL")); // FedEx's "delivered", not DHL's
        Assert.Null(codes.Map("dhl", "delivered"));
        Assert.Null(codes.Map("royalmail", "OK"));
        Assert.False(codes.Knows("royalmail"));
    }

    [Fact]
    public void Configured_codes_add_carriers_override_built_in_codes_and_an_empty_value_takes_one_out()
    {
        var codes = Codes(
            ("Carriers:StatusCodes:Royal-Mail:EVNMI", "inTransit"),
            ("Carriers:StatusCodes:Royal-Mail:EVKOP", "DELIVERED"),
            ("Carriers:StatusCodes:dhl:OH", "customs"),
            ("Carriers:StatusCodes:DHL:RT", ""),
            ("Carriers:StatusCodes:dhl:HP", "customs"));

        Assert.True(codes.Knows("royalmail"));
        Assert.Equal(TrackingEventKind.InTransit, codes.Map("royalmail", "evnmi"));
        Assert.Equal(TrackingEventKind.Delivered, codes.Map("royalmail", "EVKOP"));
        Assert.Equal(TrackingEventKind.Customs, codes.Map("dhl", "OH"));
        Assert.Equal(TrackingEventKind.Customs, codes.Map("dhl", "HP"));
        Assert.Null(codes.Map("dhl", "RT"));
        Assert.Equal(TrackingEventKind.Delivered, codes.Map("dhl", "OK")); // the rest of the built-in table stays
        Assert.Null(Codes().Map("dhl", "HP")); // built once per configuration, not shared
    }

    [Fact]
    public void A_configured_code_that_names_no_kind_stops_the_start_naming_its_key()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Codes(("Carriers:StatusCodes:acme:X1", "lost")));
        Assert.Contains("Carriers:StatusCodes:acme:X1", error.Message);
        Assert.Contains("inTransit", error.Message);
        Assert.Throws<InvalidOperationException>(() => Codes(("Carriers:StatusCodes:--:X1", "inTransit")));
    }

    [Theory]
    [InlineData("Royal Mail", "royalmail")]
    [InlineData("royal-mail", "royalmail")]
    [InlineData("DHL", "dhl")]
    [InlineData("dhl", "dhl")]
    public void A_carrier_is_matched_by_the_letters_and_digits_of_its_name_in_lower_case(string name, string key) =>
        Assert.Equal(key, ShipmentKeys.Carrier(name));

    [Theory]
    [InlineData("lx 123 456 789 cn", "LX123456789CN")]
    [InlineData("JD-0001-2345", "JD00012345")]
    [InlineData("794600003828", "794600003828")]
    public void A_tracking_number_is_matched_by_its_letters_and_digits_in_upper_case(string number, string key) =>
        Assert.Equal(key, ShipmentKeys.TrackingNumber(number));

    [Fact]
    public void A_key_already_in_its_form_is_the_same_string()
    {
        // Every write of a shipped order reads its keys: one already normalised costs no allocation.
        var number = "LX123456789CN";
        Assert.Same(number, ShipmentKeys.TrackingNumber(number));
        var carrier = "fedex";
        Assert.Same(carrier, ShipmentKeys.Carrier(carrier));
    }
}
