using System.Security.Cryptography;

namespace Orleans.Trade.Wallets;

/// <summary>Encrypts small secrets at rest (AES-256-GCM, random nonce); the key comes from the silo's configuration.</summary>
public sealed class SecretBox(byte[] key)
{
    private const int NonceBytes = 12;
    private const int TagBytes = 16;

    public byte[] Seal(ReadOnlySpan<byte> plaintext)
    {
        var sealedBytes = new byte[NonceBytes + TagBytes + plaintext.Length];
        var nonce = sealedBytes.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagBytes);
        aes.Encrypt(nonce, plaintext, sealedBytes.AsSpan(NonceBytes + TagBytes), sealedBytes.AsSpan(NonceBytes, TagBytes));
        return sealedBytes;
    }

    public byte[] Open(ReadOnlySpan<byte> sealedBytes)
    {
        var plaintext = new byte[sealedBytes.Length - NonceBytes - TagBytes];
        using var aes = new AesGcm(key, TagBytes);
        aes.Decrypt(sealedBytes[..NonceBytes], sealedBytes[(NonceBytes + TagBytes)..], sealedBytes.Slice(NonceBytes, TagBytes), plaintext);
        return plaintext;
    }
}
