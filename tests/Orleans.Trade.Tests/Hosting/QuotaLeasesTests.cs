using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Orleans.Trade.Api.Common;
using Orleans.Trade.Common;

namespace Orleans.Trade.Tests.Hosting;

/// <summary>
/// A silo's side of the cluster-wide request budgets, on a fake clock: the shared bucket here is the same arithmetic the
/// budget's grain runs (<see cref="TokenBucket"/>), called in memory; the grain itself is exercised across real silos in
/// <c>ClusterRateLimitTests</c>.
/// </summary>
public sealed class QuotaLeasesTests
{
    private readonly FakeTimeProvider _time = new();

    /// <summary>One bucket per id, shared by every <see cref="QuotaLeases"/> it is given to, counting the lease calls.</summary>
    private sealed class SharedBucket(FakeTimeProvider time)
    {
        private readonly Dictionary<string, TokenBucket> _buckets = [];
        public int Calls;

        public Task<QuotaLease> Lease(string id, int want, double perSecond, double burst)
        {
            Interlocked.Increment(ref Calls);
            lock (this)
            {
                var bucket = _buckets.TryGetValue(id, out var known) ? known : new TokenBucket(burst, time.GetTimestamp());
                bucket.Refill(time.GetTimestamp(), perSecond, burst, time);
                var granted = bucket.TakeUpTo(want);
                _buckets[id] = bucket;
                return Task.FromResult(new QuotaLease(granted, granted > 0 ? TimeSpan.Zero : bucket.UntilOne(perSecond)));
            }
        }
    }

    private QuotaLeases Silo(QuotaLeases.Source source) => new(source, _time, NullLogger.Instance);

    private static async Task<int> Admitted(QuotaLeases silo, string id, int requests, double perSecond, double burst)
    {
        var admitted = 0;
        for (var i = 0; i < requests; i++)
        {
            admitted += (await silo.TryTakeAsync(id, perSecond, burst)).Admitted ? 1 : 0;
        }
        return admitted;
    }

    [Fact]
    public async Task Three_silos_sharing_a_bucket_admit_its_burst_once_not_three_times_and_then_its_rate()
    {
        var bucket = new SharedBucket(_time);
        var silos = Enumerable.Range(0, 3).Select(_ => Silo(bucket.Lease)).ToArray();

        // Burst 40 at 20/s: each silo leases 5 at a time, so the three together admit exactly the burst.
        var admitted = 0;
        for (var round = 0; round < 30; round++)
        {
            foreach (var silo in silos)
            {
                admitted += (await silo.TryTakeAsync("buyer:b-1", 20, 40)).Admitted ? 1 : 0;
            }
        }
        Assert.Equal(40, admitted);
        Assert.Equal(8 + 3, bucket.Calls); // 8 leases of 5, then one refused lease per silo; the refusals are remembered

        // A second's refill is 20 more across the cluster; what is left over in a silo's lease is spent there first.
        _time.Advance(TimeSpan.FromSeconds(1));
        admitted = 0;
        for (var round = 0; round < 30; round++)
        {
            foreach (var silo in silos)
            {
                admitted += (await silo.TryTakeAsync("buyer:b-1", 20, 40)).Admitted ? 1 : 0;
            }
        }
        Assert.Equal(20, admitted);

        // Another principal's budget is its own.
        Assert.Equal(40, await Admitted(silos[0], "buyer:b-2", 50, 20, 40));
    }

    [Fact]
    public async Task A_refused_caller_is_told_when_a_token_is_due_and_costs_no_lease_calls_until_then()
    {
        var bucket = new SharedBucket(_time);
        var silo = Silo(bucket.Lease);
        Assert.Equal(3, await Admitted(silo, "k", 3, 2, 3));
        var refused = await silo.TryTakeAsync("k", 2, 3);
        Assert.False(refused.Admitted);
        Assert.Equal(TimeSpan.FromSeconds(0.5), refused.RetryAfter);
        var calls = bucket.Calls;

        _time.Advance(TimeSpan.FromMilliseconds(200));
        var again = await silo.TryTakeAsync("k", 2, 3);
        Assert.False(again.Admitted);
        Assert.Equal(TimeSpan.FromMilliseconds(300), again.RetryAfter);
        Assert.Equal(calls, bucket.Calls);

        _time.Advance(TimeSpan.FromMilliseconds(300));
        Assert.True((await silo.TryTakeAsync("k", 2, 3)).Admitted);
        Assert.Equal(calls + 1, bucket.Calls);
    }

    [Fact]
    public async Task Requests_that_find_no_token_at_once_share_one_lease_call()
    {
        var calls = 0;
        var lease = new TaskCompletionSource<QuotaLease>(TaskCreationOptions.RunContinuationsAsynchronously);
        var silo = Silo((_, want, _, _) =>
        {
            Interlocked.Increment(ref calls);
            Assert.Equal(5, want);
            return lease.Task;
        });

        var waiting = Enumerable.Range(0, 5).Select(_ => silo.TryTakeAsync("k", 20, 40).AsTask()).ToArray();
        Assert.All(waiting, t => Assert.False(t.IsCompleted));
        Assert.Equal(1, calls);

        lease.SetResult(new QuotaLease(5, TimeSpan.Zero));
        Assert.All(await Task.WhenAll(waiting), v => Assert.True(v.Admitted));
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task When_the_bucket_cannot_be_reached_the_silo_counts_alone_for_a_while_then_asks_again()
    {
        var calls = 0;
        var failing = true;
        var silo = Silo((_, want, _, _) =>
        {
            Interlocked.Increment(ref calls);
            return failing ? Task.FromException<QuotaLease>(new TimeoutException("unreachable")) : Task.FromResult(new QuotaLease(want, TimeSpan.Zero));
        });

        // Neither refused outright nor let through without limit: this silo's own bucket (burst 3) holds.
        Assert.Equal(3, await Admitted(silo, "k", 10, 2, 3));
        Assert.Equal(1, calls);
        Assert.Equal(1, silo.LeaseFailures);

        failing = false;
        _time.Advance(QuotaLeases.FallbackFor + TimeSpan.FromMilliseconds(1));
        Assert.True((await silo.TryTakeAsync("k", 2, 3)).Admitted);
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task A_lease_that_does_not_answer_in_time_falls_back_instead_of_holding_the_request()
    {
        var silo = Silo((_, _, _, _) => new TaskCompletionSource<QuotaLease>().Task);
        var pending = silo.TryTakeAsync("k", 2, 3).AsTask();
        Assert.False(pending.IsCompleted);

        _time.Advance(QuotaLeases.LeaseTimeout);
        Assert.True((await pending.WaitAsync(TimeSpan.FromSeconds(10))).Admitted);
        Assert.Equal(1, silo.LeaseFailures);
    }

    [Theory]
    [InlineData(20, 40, 5)]
    [InlineData(2, 3, 1)]
    [InlineData(0.5, 30, 1)]
    [InlineData(1000, 100, 25)]
    public void A_lease_is_a_quarter_second_of_the_rate_and_at_most_a_quarter_of_the_burst(double perSecond, double burst, int size) =>
        Assert.Equal(size, QuotaLeases.LeaseSize(perSecond, burst));
}
