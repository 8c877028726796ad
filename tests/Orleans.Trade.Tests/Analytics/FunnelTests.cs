using Orleans.Trade.Api.Analytics;

namespace Orleans.Trade.Tests.Analytics;

/// <summary>The conversion funnel's arithmetic (R-DAT-2) over visitors' step masks, as the README gives it.</summary>
public sealed class FunnelTests
{
    private const int View = 1, Cart = 2, Checkout = 4, Placed = 8, Paid = 16;

    private static FunnelStepRow Step(FunnelFigures figures, FunnelStep step) => figures.Steps.Single(s => s.Step == step);

    [Fact]
    public void A_step_counts_only_visitors_who_took_every_step_before_it_and_reached_counts_them_all()
    {
        var figures = Funnel.Figures(
        [
            (View, 10),                                    // viewed only
            (View | Cart, 4),                              // dropped out at checkout
            (View | Cart | Checkout, 2),                   // checked out, no order
            (View | Cart | Checkout | Placed, 1),          // placed, never paid
            (View | Cart | Checkout | Placed | Paid, 3),   // the whole way
            (Cart | Checkout | Placed | Paid, 5),          // no view sent: in no strict step, reached in four
            (Placed | Paid, 7),                            // bought with no storefront event
        ], storefrontVisitorsOnly: false);

        Assert.Equal([20L, 10L, 6L, 4L, 3L], figures.Steps.Select(s => s.Buyers));
        Assert.Equal([20L, 15L, 11L, 16L, 15L], figures.Steps.Select(s => s.Reached));
        Assert.Null(Step(figures, FunnelStep.View).StepConversion);
        Assert.Equal(0.5, Step(figures, FunnelStep.Cart).StepConversion);
        Assert.Equal(0.6, Step(figures, FunnelStep.Checkout).StepConversion);
        Assert.Equal(0.6667, Step(figures, FunnelStep.Placed).StepConversion);
        Assert.Equal(0.75, Step(figures, FunnelStep.Paid).StepConversion);
        Assert.Equal([1.0, 0.5, 0.3, 0.2, 0.15], figures.Steps.Select(s => s.OverallConversion!.Value));
        Assert.Equal([0L, 10L, 4L, 2L, 1L], figures.Steps.Select(s => s.Lost));
        Assert.Equal(0.15, figures.Conversion);
        Assert.Equal(new FunnelDropOff(FunnelStep.View, FunnelStep.Cart, 10, 0.5), figures.DropOff);
    }

    [Fact]
    public void A_skus_funnel_leaves_out_buyers_with_no_event_of_it_and_the_drop_off_is_the_biggest_loss_earliest_first()
    {
        var figures = Funnel.Figures([(View | Cart | Checkout, 3), (View | Cart | Checkout | Placed | Paid, 3), (View, 3), (Placed | Paid, 50)],
            storefrontVisitorsOnly: true);

        Assert.Equal([9L, 6L, 6L, 3L, 3L], figures.Steps.Select(s => s.Buyers));
        Assert.Equal(3, Step(figures, FunnelStep.Paid).Reached); // the 50 buyers of the seller's other SKUs are not this SKU's
        // Three lost at cart and three at placed: the earlier is the drop-off.
        Assert.Equal(new FunnelDropOff(FunnelStep.View, FunnelStep.Cart, 3, 0.3333), figures.DropOff);
    }

    [Fact]
    public void An_empty_funnel_has_no_rates_and_no_drop_off()
    {
        var figures = Funnel.Figures([], storefrontVisitorsOnly: false);
        Assert.All(figures.Steps, s => Assert.Equal((0L, 0L, (double?)null, (double?)null, 0L), (s.Buyers, s.Reached, s.StepConversion, s.OverallConversion, s.Lost)));
        Assert.Null(figures.Conversion);
        Assert.Null(figures.DropOff);

        // Everyone who viewed paid: nobody lost, so no drop-off; after an empty step the next step's conversion is unknown.
        var whole = Funnel.Figures([(View | Cart | Checkout | Placed | Paid, 2)], false);
        Assert.Equal(1.0, whole.Conversion);
        Assert.Null(whole.DropOff);
        var stopped = Funnel.Figures([(View, 2)], false);
        Assert.Equal(0.0, Step(stopped, FunnelStep.Cart).StepConversion);
        Assert.Null(Step(stopped, FunnelStep.Checkout).StepConversion);
    }

    [Fact]
    public void Days_are_counted_from_the_unix_epoch_in_utc()
    {
        Assert.Equal(0, FunnelApi.DayNumber(DateTimeOffset.UnixEpoch));
        Assert.Equal(-1, FunnelApi.DayNumber(DateTimeOffset.UnixEpoch.AddMilliseconds(-1)));
        Assert.Equal(20_430, FunnelApi.DayNumber(new DateTimeOffset(2025, 12, 7, 23, 59, 0, TimeSpan.FromHours(-1)))); // 00:59 UTC on the 8th
    }

    [Fact]
    public void The_retention_is_1_to_3650_days_and_92_by_default()
    {
        Assert.Null(new FunnelOptions().Problem());
        Assert.Equal(TimeSpan.FromDays(92), new FunnelOptions().Retention);
        Assert.Null(new FunnelOptions { FunnelRetentionDays = 1 }.Problem());
        Assert.NotNull(new FunnelOptions { FunnelRetentionDays = 0 }.Problem());
        Assert.NotNull(new FunnelOptions { FunnelRetentionDays = 3651 }.Problem());
    }
}
