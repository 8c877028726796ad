using System.Collections.Frozen;
using System.Diagnostics.Metrics;
using Orleans.Trade.Analytics;
using Orleans.Trade.Common;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Api.Analytics;

/// <summary>
/// This silo's count of the orders its checkouts placed (R-DAT-1), per business minute: a few interlocked adds per order on the
/// hot path; <see cref="SalesFlusher"/> takes the closed minutes to the cluster's monitor. Also the Prometheus counters
/// <c>trade_orders_placed_total</c> and <c>trade_gmv_minor_total{currency}</c>.
/// </summary>
public sealed class SalesRecorder
{
    public static readonly Meter Meter = new("Orleans.Trade.Analytics");

    private static readonly string[] Currencies = [.. Iso4217.Codes.Order(StringComparer.Ordinal)];
    private static readonly FrozenDictionary<string, int> CurrencyIndex =
        Currencies.Select((c, i) => KeyValuePair.Create(c, i)).ToFrozenDictionary(StringComparer.Ordinal);

    private readonly TimeProvider _clock;
    private readonly Counter<long> _ordersPlaced = Meter.CreateCounter<long>("trade.orders.placed", "{order}",
        "Orders placed by checkouts this silo answered (a retried checkout's answer is not counted again).");
    private readonly Counter<long> _gmvMinor = Meter.CreateCounter<long>("trade.gmv.minor", "{minor unit}",
        "GMV of the orders placed here: the sellers' goods totals in minor units of their currency (label currency).");
    private readonly object _rotation = new();
    private readonly Queue<Bucket> _closed = new();
    private volatile Bucket _current;

    public SalesRecorder(TradeClock clock)
    {
        _clock = clock;
        _current = new Bucket(SalesMonitor.MinuteOf(clock.GetUtcNow()));
    }

    /// <summary>
    /// Counts the orders of a checkout answered as created, unless it is a stored answer to a retry: an order created before
    /// this request started was counted by the request that placed it. (A retry sent while the first request is still in
    /// flight is counted twice; an order placed on a silo whose clock is behind this one's by more than the request took to
    /// reach it is missed.)
    /// </summary>
    public void Placed(IReadOnlyList<OrderView> orders, DateTimeOffset requestStartedAt)
    {
        var now = _clock.GetUtcNow();
        var bucket = BucketFor(SalesMonitor.MinuteOf(now));
        for (var n = 0; n < orders.Count; n++) // no enumerator allocated on the checkout's path
        {
            var order = orders[n];
            if (order.CreatedAt < requestStartedAt || !CurrencyIndex.TryGetValue(order.Totals.Seller.Currency, out var i))
            {
                continue;
            }
            Interlocked.Increment(ref bucket.Orders[i]);
            Interlocked.Add(ref bucket.GmvMinor[i], order.Totals.Seller.AmountMinor);
            _ordersPlaced.Add(1);
            _gmvMinor.Add(order.Totals.Seller.AmountMinor, new KeyValuePair<string, object?>("currency", Currencies[i]));
        }
    }

    /// <summary>
    /// The minutes closed before <paramref name="minute"/> whose last adds have landed: a bucket is handed out one call after it
    /// closed, so a checkout that took the bucket just before it closed has finished adding to it.
    /// </summary>
    public IReadOnlyList<SalesMinute> TakeClosed(long minute, out int stillSettling)
    {
        List<SalesMinute> taken = [];
        lock (_rotation)
        {
            if (_current.Minute < minute)
            {
                _closed.Enqueue(_current);
                _current = new Bucket(minute);
            }
            while (_closed.TryPeek(out var settled) && settled.Settled)
            {
                _closed.Dequeue();
                if (settled.ToMinute() is { } m)
                {
                    taken.Add(m);
                }
            }
            foreach (var settling in _closed)
            {
                settling.Settled = true;
            }
            stillSettling = _closed.Count;
        }
        return taken;
    }

    /// <summary>
    /// Every minute not yet handed out, the open one too: for the last flush at shutdown, when Kestrel has let the requests in
    /// flight finish and nothing adds to a bucket any more. The monitor adds a minute's parts up, so the rest of the open minute
    /// (counted by other silos, or by this one after a restart) joins what is handed out here.
    /// </summary>
    public IReadOnlyList<SalesMinute> TakeAll()
    {
        List<SalesMinute> taken = [];
        lock (_rotation)
        {
            _closed.Enqueue(_current);
            _current = new Bucket(_current.Minute);
            while (_closed.TryDequeue(out var bucket))
            {
                if (bucket.ToMinute() is { } m)
                {
                    taken.Add(m);
                }
            }
        }
        return taken;
    }

    private Bucket BucketFor(long minute)
    {
        var bucket = _current;
        if (bucket.Minute >= minute)
        {
            return bucket;
        }
        lock (_rotation)
        {
            if (_current.Minute < minute)
            {
                _closed.Enqueue(_current);
                _current = new Bucket(minute);
            }
            return _current;
        }
    }

    private sealed class Bucket(long minute)
    {
        public readonly long Minute = minute;
        public readonly long[] Orders = new long[Currencies.Length];
        public readonly long[] GmvMinor = new long[Currencies.Length];
        public bool Settled;

        public SalesMinute? ToMinute()
        {
            Dictionary<string, long> orders = new(StringComparer.Ordinal), gmv = new(StringComparer.Ordinal);
            for (var i = 0; i < Currencies.Length; i++)
            {
                if (Interlocked.Read(ref Orders[i]) is var count and > 0)
                {
                    orders[Currencies[i]] = count;
                    gmv[Currencies[i]] = Interlocked.Read(ref GmvMinor[i]);
                }
            }
            return orders.Count == 0 ? null : new SalesMinute(Minute, orders, gmv);
        }
    }
}
