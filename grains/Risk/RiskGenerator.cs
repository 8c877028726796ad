namespace Orleans.Trade.Risk;

/// <summary>
/// Labelled synthetic payment histories: ordinary buyers buying ordinary things, plus four documented fraud patterns at a
/// realistic rate (about 2% of attempts). Seeded and deterministic: the same payments and seed give the same file.
/// </summary>
/// <remarks>
/// Fraud patterns (every attempt of an incident is labelled 1):
/// <list type="bullet">
/// <item>Card testing: a fresh account on a new device and IP tries 6–20 different stolen cards for $1–$5 within minutes;
/// most are declined.</item>
/// <item>Account takeover: an established buyer's account pays from a new device and IP to a new shipping address, often
/// abroad, 8–30× the buyer's usual amount in phones, electronics or luxury goods.</item>
/// <item>Country mismatch: a new account pays with a card from one country, an IP in another and ships to a third.</item>
/// <item>Stolen-card velocity: one stolen card buys 3–8 times within a few hours, shipped to drop addresses shared by a
/// fraud ring; declines rise as the issuer catches on.</item>
/// </list>
/// About 5% of incidents are friendly fraud instead: an ordinary payment by the buyer, disputed later. No feature can
/// tell it apart, which keeps recall honestly below 100%.
/// Ordinary behaviour includes look-alikes that keep the problem honest: new accounts, new devices, travellers paying from
/// abroad, gifts shipped to other countries, occasional large purchases and declines for insufficient funds.
/// </remarks>
public sealed class RiskGenerator
{
    public const int MaxPayments = 2_000_000;

    /// <summary>The simulated period starts here and lasts <see cref="Days"/> days.</summary>
    public static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public const int Days = 30;
    public const double TargetFraudRate = 0.02;

    private static readonly (string Country, int Weight)[] BuyerCountries =
    [
        ("US", 20), ("GB", 8), ("DE", 8), ("FR", 7), ("ES", 5), ("IT", 5), ("BR", 8), ("MX", 5), ("PL", 4), ("NL", 3),
        ("CA", 4), ("AU", 3), ("JP", 3), ("KR", 3), ("IN", 5), ("TR", 4), ("SA", 2), ("IL", 2), ("CL", 2), ("SE", 2),
    ];

    private static readonly string[] FraudOrigins = ["NG", "VN", "ID", "RO", "UA", "PK", "BD", "GH"];
    private static readonly string[] Categories = [.. CategoryRisk.Defaults.Keys.Order(StringComparer.Ordinal)];
    private static readonly string[] ResaleCategories = ["phones", "electronics", "luxury", "gift_cards", "gaming"];

    private sealed class Buyer
    {
        public required string Id { get; init; }
        public required DateTimeOffset CreatedAt { get; init; }
        public required string Country { get; init; }
        public required List<(string Fingerprint, string BinCountry)> Cards { get; init; }
        public required List<string> Devices { get; init; }
        public required List<string> Ips { get; init; }
        public required List<(string Key, string Country)> Addresses { get; init; }
        public required long TypicalAmountUsdMinor { get; init; }
        public required string[] FavouriteCategories { get; init; }
        public required double Activity { get; init; }
    }

    private readonly Random _random;
    private readonly List<Buyer> _buyers = [];
    private readonly List<(string Key, string Country)> _dropAddresses = [];
    private readonly List<LabelledRiskEvent> _events = [];
    private readonly double[] _cumulativeActivity;
    private int _fraudBuyerCount;

    private RiskGenerator(int payments, int seed)
    {
        _random = new Random(seed);
        var buyerCount = Math.Max(50, payments / 6);
        for (var i = 0; i < buyerCount; i++)
        {
            _buyers.Add(NewBuyer(i));
        }
        _cumulativeActivity = new double[buyerCount];
        var total = 0.0;
        for (var i = 0; i < buyerCount; i++)
        {
            total += _buyers[i].Activity;
            _cumulativeActivity[i] = total;
        }
        for (var i = 0; i < 40; i++)
        {
            _dropAddresses.Add((Id("a-"), Pick(_random.NextDouble() < 0.5 ? FraudOrigins : ["US", "GB", "DE", "FR"])));
        }
    }

    /// <summary><paramref name="payments"/> attempts in time order, payment ids <c>p-0000001</c>… in that order.</summary>
    public static List<LabelledRiskEvent> Generate(int payments, int seed)
    {
        if (payments < 100 || payments > MaxPayments)
        {
            throw new ArgumentOutOfRangeException(nameof(payments), $"Generate between 100 and {MaxPayments} payments.");
        }
        var generator = new RiskGenerator(payments, seed);
        var fraudTarget = (int)Math.Round(payments * TargetFraudRate);
        while (generator._events.Count < fraudTarget)
        {
            generator.FraudIncident();
        }
        if (generator._events.Count > fraudTarget)
        {
            generator._events.RemoveRange(fraudTarget, generator._events.Count - fraudTarget);
        }
        while (generator._events.Count < payments)
        {
            generator.OrdinaryPayment();
        }
        var ordered = generator._events.OrderBy(e => e.Event.OccurredAt).ToList();
        return ordered.Select((e, i) => e with { Event = e.Event with { PaymentId = $"p-{i + 1:D7}" } }).ToList();
    }

    private Buyer NewBuyer(int n)
    {
        var country = Weighted(BuyerCountries);
        var createdDuringPeriod = _random.NextDouble() < 0.1;
        var created = createdDuringPeriod
            ? Start + TimeSpan.FromMinutes(_random.Next(0, Days * 24 * 60))
            : Start - TimeSpan.FromMinutes(_random.Next(24 * 60, 1500 * 24 * 60));
        var cards = new List<(string, string)>();
        for (var i = _random.NextDouble() < 0.8 ? 1 : 2; i > 0; i--)
        {
            cards.Add((Id("c-"), _random.NextDouble() < 0.97 ? country : Weighted(BuyerCountries)));
        }
        return new Buyer
        {
            Id = $"b-{n:D6}",
            CreatedAt = created,
            Country = country,
            Cards = cards,
            Devices = Enumerable.Range(0, 1 + _random.Next(3)).Select(_ => Id("d-")).ToList(),
            Ips = Enumerable.Range(0, 1 + _random.Next(2)).Select(_ => NewIp()).ToList(),
            Addresses = Enumerable.Range(0, _random.NextDouble() < 0.85 ? 1 : 2).Select(_ => (Id("a-"), country)).ToList(),
            TypicalAmountUsdMinor = Math.Max(200, (long)LogNormal(Math.Log(3500), 0.8)),
            FavouriteCategories = [Pick(Categories), Pick(Categories)],
            Activity = Math.Pow(1 - _random.NextDouble(), -0.7), // a few buyers buy much more often than most
        };
    }

    private void OrdinaryPayment()
    {
        var buyer = PickBuyer();
        var earliest = buyer.CreatedAt > Start ? buyer.CreatedAt + TimeSpan.FromMinutes(5) : Start;
        var at = TimeBetween(earliest, Start + TimeSpan.FromDays(Days));
        var category = _random.NextDouble() < 0.8 ? Pick(buyer.FavouriteCategories) : Pick(Categories);
        var amount = (long)(buyer.TypicalAmountUsdMinor * LogNormal(0, 0.5));
        if (_random.NextDouble() < 0.02)
        {
            amount *= 5 + _random.Next(11); // the occasional big purchase
            category = Pick(ResaleCategories);
        }
        var card = Pick(buyer.Cards);
        string device;
        if (_random.NextDouble() < 0.05)
        {
            device = Id("d-");
            buyer.Devices.Add(device);
        }
        else
        {
            device = Pick(buyer.Devices);
        }
        var ipCountry = buyer.Country;
        string ip;
        var roll = _random.NextDouble();
        if (roll < 0.03)
        {
            ip = NewIp(); // travelling
            ipCountry = Weighted(BuyerCountries);
        }
        else if (roll < 0.10)
        {
            ip = NewIp();
            buyer.Ips.Add(ip);
        }
        else
        {
            ip = Pick(buyer.Ips);
        }
        (string Key, string Country) address;
        roll = _random.NextDouble();
        if (roll < 0.02)
        {
            address = (Id("a-"), Weighted(BuyerCountries)); // a gift abroad
        }
        else if (roll < 0.07)
        {
            address = (Id("a-"), buyer.Country);
            buyer.Addresses.Add(address);
        }
        else
        {
            address = Pick(buyer.Addresses);
        }
        var declined = _random.NextDouble() < (amount > 3 * buyer.TypicalAmountUsdMinor ? 0.08 : 0.04);
        Add(new RiskEvent("", at, buyer.Id, buyer.CreatedAt, card.Fingerprint, card.BinCountry, device, ip, ipCountry,
            address.Key, address.Country, Math.Max(100, amount), category, declined ? RiskOutcome.Declined : RiskOutcome.Approved), fraud: false);
    }

    private void FraudIncident()
    {
        var roll = _random.NextDouble();
        if (roll < 0.05)
        {
            FriendlyFraud();
        }
        else if (roll < 0.15)
        {
            CardTesting();
        }
        else if (roll < 0.50)
        {
            AccountTakeover();
        }
        else if (roll < 0.80)
        {
            CountryMismatch();
        }
        else
        {
            StolenCardVelocity();
        }
    }

    private void CardTesting()
    {
        var at = TimeBetween(Start + TimeSpan.FromHours(1), Start + TimeSpan.FromDays(Days) - TimeSpan.FromHours(1));
        var buyerId = FraudBuyerId();
        var created = at - TimeSpan.FromMinutes(_random.Next(5, 3 * 24 * 60));
        var device = Id("d-");
        var ip = NewIp();
        var ipCountry = Pick(FraudOrigins);
        var address = (Key: Id("a-"), Country: ipCountry);
        var category = Pick(["gift_cards", "gaming", "electronics"]);
        var attempts = 6 + _random.Next(15);
        for (var i = 0; i < attempts; i++)
        {
            at += TimeSpan.FromSeconds(10 + _random.Next(120));
            var declined = _random.NextDouble() < 0.7;
            Add(new RiskEvent("", at, buyerId, created, Id("c-"), Weighted(BuyerCountries), device, ip, ipCountry, address.Key,
                address.Country, 100 + _random.Next(400), category, declined ? RiskOutcome.Declined : RiskOutcome.Approved), fraud: true);
        }
    }

    private void AccountTakeover()
    {
        Buyer victim;
        do
        {
            victim = _buyers[_random.Next(_buyers.Count)];
        }
        while (victim.CreatedAt > Start);
        var at = TimeBetween(Start + TimeSpan.FromHours(1), Start + TimeSpan.FromDays(Days));
        var device = Id("d-");
        var ip = NewIp();
        var ipCountry = _random.NextDouble() < 0.7 ? Pick(FraudOrigins) : victim.Country;
        (string Key, string Country) address = _random.NextDouble() < 0.6 ? Pick(_dropAddresses) : (Id("a-"), victim.Country);
        var card = Pick(victim.Cards);
        var attempts = 1 + _random.Next(3);
        for (var i = 0; i < attempts; i++)
        {
            var amount = Math.Max(30_000, victim.TypicalAmountUsdMinor * (8 + _random.Next(23)));
            Add(new RiskEvent("", at, victim.Id, victim.CreatedAt, card.Fingerprint, card.BinCountry, device, ip, ipCountry,
                address.Key, address.Country, amount, Pick(["phones", "electronics", "luxury"]),
                _random.NextDouble() < 0.15 ? RiskOutcome.Declined : RiskOutcome.Approved), fraud: true);
            at += TimeSpan.FromMinutes(1 + _random.Next(30));
        }
    }

    private void CountryMismatch()
    {
        var at = TimeBetween(Start + TimeSpan.FromHours(1), Start + TimeSpan.FromDays(Days));
        var buyerId = FraudBuyerId();
        var created = at - TimeSpan.FromMinutes(_random.Next(5, 10 * 24 * 60));
        var binCountry = Weighted(BuyerCountries);
        string ipCountry;
        do
        {
            ipCountry = _random.NextDouble() < 0.6 ? Pick(FraudOrigins) : Weighted(BuyerCountries);
        }
        while (ipCountry == binCountry);
        var shipCountry = _random.NextDouble() < 0.5 ? ipCountry : Weighted(BuyerCountries);
        var card = Id("c-");
        var device = Id("d-");
        var ip = NewIp();
        var address = Id("a-");
        var attempts = 1 + _random.Next(2);
        for (var i = 0; i < attempts; i++)
        {
            Add(new RiskEvent("", at, buyerId, created, card, binCountry, device, ip, ipCountry, address, shipCountry,
                8_000 + _random.Next(72_000), Pick(ResaleCategories),
                _random.NextDouble() < 0.3 ? RiskOutcome.Declined : RiskOutcome.Approved), fraud: true);
            at += TimeSpan.FromMinutes(2 + _random.Next(60));
        }
    }

    private void StolenCardVelocity()
    {
        var at = TimeBetween(Start + TimeSpan.FromHours(1), Start + TimeSpan.FromDays(Days) - TimeSpan.FromHours(4));
        var buyerId = FraudBuyerId();
        var created = at - TimeSpan.FromMinutes(_random.Next(5, 2 * 24 * 60));
        var binCountry = Weighted(BuyerCountries);
        var ipCountry = _random.NextDouble() < 0.6 ? binCountry : Pick(FraudOrigins);
        var card = Id("c-");
        var device = Id("d-");
        var ip = NewIp();
        var purchases = 3 + _random.Next(6);
        for (var i = 0; i < purchases; i++)
        {
            var address = Pick(_dropAddresses);
            var declined = _random.NextDouble() < 0.1 + 0.1 * i;
            Add(new RiskEvent("", at, buyerId, created, card, binCountry, device, ip, ipCountry, address.Key, address.Country,
                5_000 + _random.Next(35_000), Pick(ResaleCategories), declined ? RiskOutcome.Declined : RiskOutcome.Approved), fraud: true);
            at += TimeSpan.FromMinutes(5 + _random.Next(40));
        }
    }

    /// <summary>An established buyer's ordinary-looking payment, disputed later as fraud: nothing in the data gives it away.</summary>
    private void FriendlyFraud()
    {
        var before = _events.Count;
        OrdinaryPayment();
        _events[before] = _events[before] with { IsFraud = true };
    }

    private void Add(RiskEvent e, bool fraud) => _events.Add(new LabelledRiskEvent(e, fraud));

    private string FraudBuyerId() => $"b-x{_fraudBuyerCount++:D5}";

    private Buyer PickBuyer()
    {
        var x = _random.NextDouble() * _cumulativeActivity[^1];
        var i = Array.BinarySearch(_cumulativeActivity, x);
        return _buyers[i < 0 ? Math.Min(~i, _buyers.Count - 1) : i];
    }

    /// <summary>A time in [from, to), busier in the evening (UTC) than at night.</summary>
    private DateTimeOffset TimeBetween(DateTimeOffset from, DateTimeOffset to)
    {
        if (to <= from)
        {
            return from;
        }
        while (true)
        {
            var at = from + TimeSpan.FromSeconds(_random.NextDouble() * (to - from).TotalSeconds);
            var hour = at.UtcDateTime.Hour;
            var busy = hour is >= 8 and <= 22 ? 1.0 : 0.35;
            if (_random.NextDouble() < busy)
            {
                return new DateTimeOffset(at.UtcTicks - at.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
            }
        }
    }

    private string Id(string prefix) => prefix + _random.NextInt64().ToString("x16");

    private string NewIp() => $"{_random.Next(1, 224)}.{_random.Next(256)}.{_random.Next(256)}.{_random.Next(1, 255)}";

    private T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    private string Weighted((string Value, int Weight)[] items)
    {
        var x = _random.Next(items.Sum(i => i.Weight));
        foreach (var (value, weight) in items)
        {
            if (x < weight)
            {
                return value;
            }
            x -= weight;
        }
        return items[^1].Value;
    }

    private double LogNormal(double mu, double sigma)
    {
        var u1 = 1 - _random.NextDouble();
        var u2 = _random.NextDouble();
        var normal = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
        return Math.Exp(mu + sigma * normal);
    }
}
