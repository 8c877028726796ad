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
}
