namespace Orleans.Trade.Payments.Sandbox;

/// <summary>What the sandbox does with an authorization, before any 3-D Secure challenge or bank transfer.</summary>
public enum SandboxBehaviour { Approve, Decline, Challenge, ApproveSlowly, AwaitTransfer }

public sealed record SandboxTestCard(string Number, SandboxBehaviour Behaviour, string? DeclineCode, string Description)
{
    public string Bin => Number[..6];
    public string Last4 => Number[^4..];
}

/// <summary>
/// The documented test instruments of the sandbox. Cards are told apart by BIN and last four, the only card data our vault
/// keeps; any other card is approved.
/// </summary>
public static class SandboxTestCards
{
    public const string CardDeclined = "card_declined";
    public const string InsufficientFunds = "insufficient_funds";
    public const string AuthenticationFailed = "authentication_failed";
    public const string WalletDeclined = "wallet_declined";
    /// <summary>Wallet accounts starting with this are declined.</summary>
    public const string DeclinedWalletPrefix = "wallet_declined";

    public static IReadOnlyList<SandboxTestCard> All { get; } =
    [
        new("4242424242424242", SandboxBehaviour.Approve, null, "Visa: authorized"),
        new("5555555555554444", SandboxBehaviour.Approve, null, "Mastercard: authorized"),
        new("4000000000000002", SandboxBehaviour.Decline, CardDeclined, "declined: card_declined"),
        new("4000000000009995", SandboxBehaviour.Decline, InsufficientFunds, "declined: insufficient_funds"),
        new("4000000000003220", SandboxBehaviour.Challenge, null, "3-D Secure challenge required"),
        new("4000000000000119", SandboxBehaviour.ApproveSlowly, null, "authorized at once, answered after Payments:Sandbox:SlowResponseDelay"),
    ];

    /// <summary>What the sandbox does with <paramref name="instrument"/>; the decline code is set for <see cref="SandboxBehaviour.Decline"/>.</summary>
    public static (SandboxBehaviour Behaviour, string? DeclineCode) Decide(SandboxInstrument instrument) => instrument.Type switch
    {
        PaymentMethodType.Card or PaymentMethodType.Instalments => ForCard(instrument.CardBin, instrument.CardLast4),
        PaymentMethodType.Wallet => instrument.WalletAccount?.StartsWith(DeclinedWalletPrefix, StringComparison.Ordinal) == true
            ? (SandboxBehaviour.Decline, WalletDeclined)
            : (SandboxBehaviour.Approve, null),
        PaymentMethodType.BankTransfer => (SandboxBehaviour.AwaitTransfer, null),
        _ => throw new ArgumentException($"Unknown payment method {instrument.Type}.", nameof(instrument)),
    };

    private static (SandboxBehaviour, string?) ForCard(string? bin, string? last4)
    {
        foreach (var card in All)
        {
            if (card.Bin == bin && card.Last4 == last4)
            {
                return (card.Behaviour, card.DeclineCode);
            }
        }
        return (SandboxBehaviour.Approve, null);
    }
}
