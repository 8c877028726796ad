using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Orleans.Trade.Api.Common;
using Orleans.Trade.Common;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Hosting;

/// <summary>
/// A silo's side of the cluster-wide request budgets, on a fake clock: the shared bucket here is the arithmetic the budget's
/// grain runs (<see cref="QuotaBucket"/>), called in memory; the grain itself is exercised across real silos in
/// <c>ClusterRateLimitTests</c>.
/// </summary>
public sealed class QuotaLeasesTests
{
    private readonly FakeTimeProvider _time = new();

    /// <summary>The budget grain's arithmetic per id, shared by every <see cref="QuotaLeases"/> it is given to, counting the calls.</summary>
    private sealed class SharedBucket(FakeTimeProvider time)
    {
        private readonly Dictionary<string, QuotaBucket> _buckets = [];
        public int Calls;

        public Task<QuotaLease> Lease(string id, int want, double perSecond, double burst) => Task.FromResult(Answer(id, want, perSecond, burst));

        public QuotaLease Answer(string id, int want, double perSecond, double burst)
        {
            Interlocked.Increment(ref Calls);
            lock (_buckets)
            {
                if (!_buckets.TryGetValue(id, out var bucket))
                {
                    _buckets[id] = bucket = new QuotaBucket(time);
                }
                return bucket.Lease(want, perSecond, burst);
            }
        }

        public int Leased(string id)
        {
            lock (_buckets)
            {
                return _buckets[id].Leased;
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

    private static async Task<int> RoundRobin(IReadOnlyList<QuotaLeases> silos, string id, int rounds, double perSecond, double burst)
    {
        var admitted = 0;
        for (var round = 0; round < rounds; round++)
        {
            foreach (var silo in silos)
            {
                admitted += (await silo.TryTakeAsync(id, perSecond, burst)).Admitted ? 1 : 0;
            }
        }
        return admitted;
    }

    [Fact]
    public async Task Three_silos_sharing_a_bucket_admit_its_burst_once_not_three_times_and_then_its_rate()
    {
        var bucket = new SharedBucket(_time);
        var silos = Enumerable.Range(0, 3).Select(_ => Silo(bucket.Lease)).ToArray();

        // Burst 40 at 20/s: the three together admit exactly the burst, in fewer lease calls than requests.
        Assert.Equal(40, await RoundRobin(silos, "buyer:b-1", 30, 20, 40));
        Assert.InRange(bucket.Calls, 3, 30);

        // The burst's leases count against it until they lapse (1 s), so the refill starts then: 20 in the second after.
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(0, await RoundRobin(silos, "buyer:b-1", 10, 20, 40));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(20, await RoundRobin(silos, "buyer:b-1", 30, 20, 40));

        // Another principal's budget is its own.
        Assert.Equal(40, await Admitted(silos[0], "buyer:b-2", 50, 20, 40));
    }

    /// <summary>
    /// Four silos, each of which has spent whole leases up to the largest (so it now leases 5 tokens at a time) and then served
    /// one request of a fresh lease: each holds 4 tokens, 20 in all, leased from the full bucket just now.
    /// </summary>
    private async Task<QuotaLeases[]> SilosHoldingLeftoversAsync(SharedBucket bucket)
    {
        var silos = Enumerable.Range(0, 4).Select(_ => Silo(bucket.Lease)).ToArray();
        foreach (var silo in silos)
        {
            Assert.Equal(12, await Admitted(silo, "b", 12, 20, 40)); // leases of 1, 2, 4 and 5, each spent while good
            _time.Advance(TimeSpan.FromSeconds(2));
        }
        _time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(4, await RoundRobin(silos, "b", 1, 20, 40));
        Assert.Equal(20, bucket.Leased("b"));
        return silos;
    }

    /// <summary>
    /// 0.9 s later the leases still count: a bucket that forgot them would hold 38 again, and with the 16 the silos hold a
    /// burst of 54 would pass. 5 s later they have lapsed on the silos too: the burst again, no more.
    /// </summary>
    [Theory]
    [InlineData(0.9, 36)]
    [InlineData(5, 40)]
    public async Task Tokens_the_silos_hold_count_against_the_burst_until_they_lapse_and_never_add_to_a_refilled_one(double seconds, int burst)
    {
        var bucket = new SharedBucket(_time);
        var silos = await SilosHoldingLeftoversAsync(bucket);
        _time.Advance(TimeSpan.FromSeconds(seconds));
        Assert.Equal(burst, await RoundRobin(silos, "b", 30, 20, 40));
    }

    [Fact]
    public async Task Ten_silos_asked_at_once_by_a_fresh_principal_all_serve_it()
    {
        var bucket = new SharedBucket(_time);
        var silos = Enumerable.Range(0, 10).Select(_ => Silo(bucket.Lease)).ToArray();
        var verdicts = await Task.WhenAll(silos.Select(s => s.TryTakeAsync("b", 20, 40).AsTask()));
        Assert.All(verdicts, v => Assert.True(v.Admitted));
        // And the rest of the burst is still there for whichever silos the next requests reach.
        Assert.Equal(30, await RoundRobin(silos, "b", 10, 20, 40));
    }

    [Fact]
    public async Task Silos_whose_leases_have_grown_asked_at_once_all_serve_the_principal()
    {
        var bucket = new SharedBucket(_time);
        var silos = Enumerable.Range(0, 10).Select(_ => Silo(bucket.Lease)).ToArray();
        foreach (var silo in silos)
        {
            Assert.Equal(15, await Admitted(silo, "b", 15, 40, 40)); // leases of 1, 2, 4 and 8: each silo now asks for 10
            _time.Advance(TimeSpan.FromSeconds(1));
        }
        _time.Advance(TimeSpan.FromSeconds(3));
        // 10 silos asking for 10 from a bucket of 40: each lease is at most a quarter of what is left, so none comes back empty.
        var verdicts = await Task.WhenAll(silos.Select(s => s.TryTakeAsync("b", 40, 40).AsTask()));
        Assert.All(verdicts, v => Assert.True(v.Admitted));
    }

    [Fact]
    public async Task Over_any_window_the_cluster_admits_at_most_the_burst_plus_the_rate_times_the_window()
    {
        var bucket = new SharedBucket(_time);
        var silos = Enumerable.Range(0, 3).Select(_ => Silo(bucket.Lease)).ToArray();
        var random = new Random(7);
        var admittedAt = new List<TimeSpan>();
        var clock = TimeSpan.Zero;
        for (var i = 0; i < 3_000; i++)
        {
            // Bursty traffic, far over the limit at times, idle at others, spread unevenly over the silos.
            var gap = TimeSpan.FromMilliseconds(random.Next(10) < 8 ? random.Next(0, 3) : random.Next(50, 1500));
            _time.Advance(gap);
            clock += gap;
            if ((await silos[random.Next(10) < 6 ? 0 : random.Next(1, 3)].TryTakeAsync("b", 10, 15)).Admitted)
            {
                admittedAt.Add(clock);
            }
        }
        Assert.True(admittedAt.Count > 100, $"only {admittedAt.Count} admitted");
        foreach (var window in new[] { 0.1, 0.5, 1, 2, 5 })
        {
            var most = admittedAt.Select((t, i) => admittedAt.Skip(i).TakeWhile(u => (u - t).TotalSeconds <= window).Count()).Max();
            Assert.True(most <= 15 + 10 * window, $"{most} admitted within {window} s (burst 15, 10/s)");
        }
    }

    [Fact]
    public async Task A_refused_caller_is_told_when_a_token_is_due_and_costs_no_lease_calls_until_then()
    {
        var bucket = new SharedBucket(_time);
        var silo = Silo(bucket.Lease);
        Assert.Equal(3, await Admitted(silo, "k", 3, 2, 3));
        var refused = await silo.TryTakeAsync("k", 2, 3);
        Assert.False(refused.Admitted);
        // The three tokens leased count until their leases lapse (0.75 s, half the burst's worth of 2/s); a token 0.5 s after.
        Assert.Equal(TimeSpan.FromSeconds(1.25), refused.RetryAfter);
        var calls = bucket.Calls;

        _time.Advance(TimeSpan.FromMilliseconds(1000));
        var again = await silo.TryTakeAsync("k", 2, 3);
        Assert.False(again.Admitted);
        Assert.Equal(TimeSpan.FromMilliseconds(250), again.RetryAfter);
        Assert.Equal(calls, bucket.Calls);

        _time.Advance(TimeSpan.FromMilliseconds(250));
        Assert.True((await silo.TryTakeAsync("k", 2, 3)).Admitted);
        Assert.Equal(calls + 1, bucket.Calls);
    }

    [Fact]
    public async Task Requests_that_find_no_token_at_once_share_one_lease_call_and_the_next_lease_is_for_all_of_them()
    {
        var wants = new List<int>();
        var first = new TaskCompletionSource<QuotaLease>(TaskCreationOptions.RunContinuationsAsynchronously);
        var silo = Silo((_, want, _, _) =>
        {
            lock (wants)
            {
                wants.Add(want);
                return wants.Count == 1 ? first.Task : Task.FromResult(new QuotaLease(want, TimeSpan.Zero, TimeSpan.FromSeconds(1)));
            }
        });

        var waiting = Enumerable.Range(0, 5).Select(_ => silo.TryTakeAsync("k", 20, 40).AsTask()).ToArray();
        Assert.All(waiting, t => Assert.False(t.IsCompleted));
        Assert.Equal([1], wants);

        // One token for five waiters: one is served, and one more lease call is made, for the four still waiting.
        first.SetResult(new QuotaLease(1, TimeSpan.Zero, TimeSpan.FromSeconds(1)));
        var verdicts = await Task.WhenAll(waiting).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.All(verdicts, v => Assert.True(v.Admitted));
        Assert.Equal([1, 4], wants);
    }

    /// <summary>
    /// <paramref name="requests"/> requests of one id at once on a silo new to it; each lease call is answered by the budget's
    /// arithmetic after the one before, while the requests that did not get a token wait for the next.
    /// </summary>
    private async Task<(QuotaLeases.Verdict[] Verdicts, List<int> Wants, List<int> Grants)> AllAtOnceAsync(int requests, double perSecond, double burst)
    {
        var bucket = new SharedBucket(_time);
        var calls = System.Threading.Channels.Channel.CreateUnbounded<(TaskCompletionSource<QuotaLease> Answer, int Want)>();
        var silo = Silo((_, want, _, _) =>
        {
            var answer = new TaskCompletionSource<QuotaLease>(TaskCreationOptions.RunContinuationsAsynchronously);
            calls.Writer.TryWrite((answer, want));
            return answer.Task;
        });
        var all = Task.WhenAll(Enumerable.Range(0, requests).Select(_ => silo.TryTakeAsync("b", perSecond, burst).AsTask()));
        var (wants, grants) = (new List<int>(), new List<int>());
        while (true)
        {
            var next = calls.Reader.ReadAsync().AsTask();
            if (await Task.WhenAny(next, all).WaitAsync(TimeSpan.FromSeconds(10)) == all)
            {
                return (await all, wants, grants);
            }
            var (answer, want) = await next;
            var lease = bucket.Answer("b", want, perSecond, burst);
            wants.Add(want);
            grants.Add(lease.Granted);
            answer.SetResult(lease);
        }
    }

    [Fact]
    public async Task Many_requests_of_a_principal_new_to_a_silo_at_once_are_served_from_its_burst()
    {
        var (verdicts, wants, _) = await AllAtOnceAsync(12, 20, 40);
        Assert.All(verdicts, v => Assert.True(v.Admitted));
        // Leases of 1, then 5 (the most) for the eleven waiting, twice more.
        Assert.Equal([1, 5, 5, 5], wants);
    }

    [Fact]
    public async Task A_whole_burst_at_once_is_served_whole_and_only_the_request_past_it_is_refused()
    {
        // Each lease is at most a quarter of what is left, so the last tokens come one at a time: the waiters wait for them.
        var (verdicts, _, grants) = await AllAtOnceAsync(41, 20, 40);
        Assert.Equal(40, verdicts.Count(v => v.Admitted));
        Assert.Equal(40, grants.Sum());
        Assert.InRange(grants.Count, 2, QuotaLeases.MostLeasesPerRequest);
    }

    [Fact]
    public async Task Requests_keep_no_lease_call_waiting_past_when_its_answer_would_have_lapsed()
    {
        var silo = Silo((_, _, _, _) => new TaskCompletionSource<QuotaLease>().Task);
        var pending = silo.TryTakeAsync("k", 20, 40).AsTask();
        Assert.False(pending.IsCompleted);

        // Leases of 20/s with a burst of 40 last 1 s: after half of that the silo counts alone rather than wait on.
        _time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.True((await pending.WaitAsync(TimeSpan.FromSeconds(10))).Admitted);
        Assert.Equal(1, silo.LeaseFailures);
    }

    [Fact]
    public async Task Leases_grow_while_a_silo_spends_them_and_shrink_when_they_lapse()
    {
        var asked = new List<int>();
        var silo = Silo((_, want, _, _) =>
        {
            asked.Add(want);
            return Task.FromResult(new QuotaLease(want, TimeSpan.Zero, TimeSpan.FromSeconds(1)));
        });
        Assert.Equal(20, await Admitted(silo, "k", 20, 20, 40));
        Assert.Equal([1, 2, 4, 5, 5, 5], asked);

        // The last lease of 5 had 2 left when it lapsed: the next asks for half as many.
        asked.Clear();
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True((await silo.TryTakeAsync("k", 20, 40)).Admitted);
        Assert.Equal([2], asked);
    }

    [Fact]
    public async Task A_principal_that_only_visits_now_and_then_is_leased_one_token_at_a_time()
    {
        var asked = new List<int>();
        var silo = Silo((_, want, _, _) =>
        {
            asked.Add(want);
            return Task.FromResult(new QuotaLease(want, TimeSpan.Zero, TimeSpan.FromSeconds(1)));
        });
        for (var i = 0; i < 5; i++)
        {
            Assert.True((await silo.TryTakeAsync("k", 20, 40)).Admitted);
            _time.Advance(TimeSpan.FromSeconds(2));
        }
        // Each lease was spent whole, but long before the next request: no token is left stranded on this silo.
        Assert.Equal([1, 1, 1, 1, 1], asked);
    }

    [Fact]
    public async Task When_the_bucket_cannot_be_reached_the_silo_counts_alone_for_a_while_then_asks_again()
    {
        var calls = 0;
        var failing = true;
        var silo = Silo((_, want, _, _) =>
        {
            Interlocked.Increment(ref calls);
            return failing
                ? Task.FromException<QuotaLease>(new TimeoutException("unreachable"))
                : Task.FromResult(new QuotaLease(want, TimeSpan.Zero, TimeSpan.FromSeconds(1)));
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
    public void A_lease_is_at_most_a_quarter_second_of_the_rate_and_a_quarter_of_the_burst(double perSecond, double burst, int size) =>
        Assert.Equal(size, QuotaLeases.LeaseSize(perSecond, burst));
}
