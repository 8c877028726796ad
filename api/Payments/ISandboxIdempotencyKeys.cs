namespace Orleans.Trade.Api.Payments;

/// <summary>The sandbox PSP's Idempotency-Keys: a key belongs to the first request (by fingerprint) that claimed it.</summary>
public interface ISandboxIdempotencyKeys
{
    /// <summary>
    /// Claims <paramref name="key"/> for the request with <paramref name="fingerprint"/>, durably; true when the key is (now or
    /// already) that request's, false when another request holds it.
    /// </summary>
    Task<bool> ClaimAsync(string key, string fingerprint, CancellationToken cancellationToken);
}
