using Orleans.Trade.Orders;

namespace Orleans.Trade.Tests.Orders;

/// <summary>R-DIS-4's bounds: 5-30% of the order's value, rounded down; the late-shipment setting is off or inside them.</summary>
public sealed class CompensationRulesTests
{
    [Theory]
    [InlineData(2_380, 5, 119)]
    [InlineData(2_380, 10, 238)]
    [InlineData(999, 30, 299)] // 299.7: rounded down, never more than the share decided
    [InlineData(long.MaxValue, 30, 2_767_011_611_056_432_742)]
    public void A_compensation_is_its_percentage_of_the_order_value_rounded_down(long valueMinor, int percent, long expected) =>
        Assert.Equal(expected, CompensationRules.Amount(valueMinor, percent));

    [Theory]
    [InlineData(4, false)]
    [InlineData(5, true)]
    [InlineData(30, true)]
    [InlineData(31, false)]
    public void Only_5_to_30_percent_is_a_compensation(int percent, bool allowed) => Assert.Equal(allowed, CompensationRules.IsAllowedPercent(percent));

    [Theory]
    [InlineData(0, true)]
    [InlineData(5, true)]
    [InlineData(30, true)]
    [InlineData(3, false)]
    [InlineData(31, false)]
    [InlineData(-5, false)]
    public void The_late_shipment_compensation_setting_is_off_or_5_to_30_percent_or_the_silo_does_not_start(int percent, bool usable)
    {
        var problem = new OrderOptions { LateShipmentCompensationPercent = percent }.Problem();

        Assert.Equal(usable, problem is null);
        if (!usable)
        {
            Assert.Contains("Orders:LateShipmentCompensationPercent", problem);
        }
    }
}
