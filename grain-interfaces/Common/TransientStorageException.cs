namespace Orleans.Trade.Common;

/// <summary>A write could not be made durable; nothing was acknowledged, and the same request may be retried.</summary>
[GenerateSerializer]
public sealed class TransientStorageException : Exception
{
    public TransientStorageException(string message) : base(message)
    {
    }
}
