using Orleans.Trade.Silo.Storage;

namespace Orleans.Trade.Tests.Storage;

/// <summary>A claimed notification stays hidden from other silos for as long as its batch can take to send.</summary>
public sealed class NotificationLeaseTests
{
    [Theory]
    [InlineData(100, 60, 100)]  // 7 rounds of 16 sends of up to 10 s, and a margin: longer than the configured minute
    [InlineData(16, 60, 60)]    // one round: the configured lease is long enough
    [InlineData(1_000, 300, 660)]
    public void The_lease_covers_every_round_of_sends_in_a_batch(int batchSize, int leaseSeconds, int expectedSeconds)
    {
        var options = new NotificationOptions { BatchSize = batchSize, Lease = TimeSpan.FromSeconds(leaseSeconds) };
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), options.EffectiveLease());
    }

    [Fact]
    public void A_notification_is_tried_for_days_not_given_up_after_two_hours_of_a_receivers_outage()
    {
        // After 20 tries (about two hours of backing off) every notification of an outage was dropped for good.
        var options = new NotificationOptions();
        var written = new DateTimeOffset(2026, 12, 7, 8, 0, 0, TimeSpan.Zero);
        var at = written;
        for (var attempts = 1; attempts <= 40; attempts++)
        {
            var (backoff, giveUp) = options.AfterFailure(attempts, written, at);
            Assert.False(giveUp, $"given up after {attempts} tries, {at - written} after it was written");
            Assert.InRange(backoff, TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(10));
            at += backoff;
        }
        Assert.True(at - written > TimeSpan.FromHours(5));
        Assert.False(options.AfterFailure(500, written, written + TimeSpan.FromDays(3) - TimeSpan.FromSeconds(1)).GiveUp);
        Assert.True(options.AfterFailure(500, written, written + TimeSpan.FromDays(3)).GiveUp);
    }
}
