namespace Orleans.Trade.Wallets;

/// <summary>
/// The binary form of a <see cref="SellerBooksImage"/>, what <see cref="SellerBooks.Snapshot"/> stores: a 4-byte mark, then
/// every list in the image's order, strings as length-prefixed UTF-8, numbers as fixed-width little-endian. A flash sale's
/// seller holds an escrow per paid order, and the JSON form of such books (about 660 bytes an order) took most of a
/// ledger's activation and of each snapshot's encoding. Snapshots stored as JSON before it still restore
/// (<see cref="IsBinary"/> tells them apart: JSON starts with '{').
/// </summary>
public static class SellerBooksBinary
{
    /// <summary>SBK2 adds each released order's commission and tax and what refunds took back of them; SBK1 still reads.</summary>
    private static ReadOnlySpan<byte> Mark => "SBK2"u8;

    private static ReadOnlySpan<byte> MarkWithoutShares => "SBK1"u8;

    public static bool IsBinary(ReadOnlySpan<byte> snapshot) => snapshot.StartsWith(Mark) || snapshot.StartsWith(MarkWithoutShares);

    public static byte[] Write(SellerBooksImage image)
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Mark);
            WriteTime(w, image.ArchivedBefore);
            w.Write(image.Ledger.Accounts.Count);
            foreach (var a in image.Ledger.Accounts)
            {
                w.Write(a.AccountId);
                w.Write(a.Currency);
                w.Write(a.DebitsPosted);
                w.Write(a.CreditsPosted);
                w.Write(a.DebitsPending);
                w.Write(a.CreditsPending);
            }
            w.Write(image.Ledger.Pendings.Count);
            foreach (var p in image.Ledger.Pendings)
            {
                WriteTransfer(w, p.Transfer);
                w.Write(p.Closed);
            }
            // Fingerprints in id order, as the image keeps them.
            w.Write(image.Ledger.Fingerprints.Count);
            foreach (var (id, fingerprint) in image.Ledger.Fingerprints)
            {
                w.Write(id);
                w.Write(fingerprint);
            }
            w.Write(image.Orders.Count);
            foreach (var o in image.Orders)
            {
                w.Write(o.OrderId);
                w.Write(o.Currency);
                WriteText(w, o.HoldId);
                w.Write(o.Released.HasValue);
                w.Write(o.Released ?? 0);
                w.Write(o.RefundedAfterRelease);
                WriteText(w, o.SettledCurrency);
                w.Write(o.RefundIds.Count);
                foreach (var refundId in o.RefundIds)
                {
                    w.Write(refundId);
                }
                w.Write(o.Split is not null);
                if (o.Split is { } split)
                {
                    w.Write(split.Commission);
                    w.Write(split.Tax);
                    WriteText(w, split.TaxAccount);
                    w.Write(split.CommissionReturned);
                    w.Write(split.TaxReturned);
                }
            }
            w.Write(image.Maturing.Count);
            foreach (var m in image.Maturing)
            {
                w.Write(m.OrderId);
                w.Write(m.Net.AmountMinor);
                w.Write(m.Net.Currency);
                WriteTime(w, m.ReleasedAt);
            }
        }
        return stream.ToArray();
    }

    /// <summary>Reads the snapshot where it lies (a flash sale's seller's is tens of megabytes): no copy of a stored array.</summary>
    public static SellerBooksImage Read(ReadOnlyMemory<byte> snapshot)
    {
        var stream = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(snapshot, out var bytes)
            ? new MemoryStream(bytes.Array!, bytes.Offset, bytes.Count, writable: false)
            : new MemoryStream(snapshot.ToArray(), writable: false);
        using var r = new BinaryReader(stream, System.Text.Encoding.UTF8);
        var mark = r.ReadBytes(Mark.Length).AsSpan();
        var withShares = mark.SequenceEqual(Mark);
        if (!withShares && !mark.SequenceEqual(MarkWithoutShares))
        {
            throw new InvalidOperationException("The ledger snapshot is not in the binary form.");
        }
        var archivedBefore = ReadTime(r);
        var accounts = new AccountBalance[r.ReadInt32()];
        for (var i = 0; i < accounts.Length; i++)
        {
            // The guard is not stored: restoring sets it from the account id.
            accounts[i] = new AccountBalance(r.ReadString(), r.ReadString(), AccountGuard.MustNotGoNegative, r.ReadInt64(), r.ReadInt64(), r.ReadInt64(), r.ReadInt64());
        }
        var pendings = new LedgerImage.PendingImage[r.ReadInt32()];
        for (var i = 0; i < pendings.Length; i++)
        {
            pendings[i] = new LedgerImage.PendingImage(ReadTransfer(r), r.ReadBoolean());
        }
        var count = r.ReadInt32();
        var fingerprints = new Dictionary<string, long>(count, StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            fingerprints.Add(r.ReadString(), r.ReadInt64());
        }
        var orders = new SellerBooksImage.OrderImage[r.ReadInt32()];
        for (var i = 0; i < orders.Length; i++)
        {
            var (orderId, currency, holdId) = (r.ReadString(), r.ReadString(), ReadText(r));
            var (hasReleased, released, refundedAfterRelease, settledCurrency) = (r.ReadBoolean(), r.ReadInt64(), r.ReadInt64(), ReadText(r));
            var refundIds = new string[r.ReadInt32()];
            for (var j = 0; j < refundIds.Length; j++)
            {
                refundIds[j] = r.ReadString();
            }
            var split = withShares && r.ReadBoolean()
                ? new SellerBooksImage.ReleasedShares(r.ReadInt64(), r.ReadInt64(), ReadText(r), r.ReadInt64(), r.ReadInt64())
                : null;
            orders[i] = new SellerBooksImage.OrderImage(orderId, currency, holdId, hasReleased ? released : null, refundedAfterRelease, settledCurrency,
                refundIds, split);
        }
        var maturing = new SellerBooksImage.MaturingImage[r.ReadInt32()];
        for (var i = 0; i < maturing.Length; i++)
        {
            var (orderId, amount, currency) = (r.ReadString(), r.ReadInt64(), r.ReadString());
            maturing[i] = new SellerBooksImage.MaturingImage(orderId, new Common.Money(amount, currency), ReadTime(r)
                ?? throw new InvalidOperationException("A maturing entry of the ledger snapshot has no release time."));
        }
        if (r.BaseStream.Position != r.BaseStream.Length)
        {
            throw new InvalidOperationException("The ledger snapshot has bytes after its last list.");
        }
        return new SellerBooksImage(new LedgerImage(accounts, pendings, fingerprints), orders, maturing, archivedBefore);
    }

    private static void WriteTransfer(BinaryWriter w, Transfer t)
    {
        w.Write(t.TransferId);
        w.Write((byte)t.Kind);
        w.Write(t.DebitAccount);
        w.Write(t.CreditAccount);
        w.Write(t.Amount);
        w.Write(t.Currency);
        WriteText(w, t.PendingId);
    }

    private static Transfer ReadTransfer(BinaryReader r) =>
        new(r.ReadString(), (TransferKind)r.ReadByte(), r.ReadString(), r.ReadString(), r.ReadInt64(), r.ReadString(), ReadText(r));

    private static void WriteText(BinaryWriter w, string? text)
    {
        w.Write(text is not null);
        if (text is not null)
        {
            w.Write(text);
        }
    }

    private static string? ReadText(BinaryReader r) => r.ReadBoolean() ? r.ReadString() : null;

    /// <summary>UTC ticks and the offset in minutes, so a time comes back as it was given.</summary>
    private static void WriteTime(BinaryWriter w, DateTimeOffset? time)
    {
        w.Write(time.HasValue);
        if (time is { } t)
        {
            w.Write(t.UtcTicks);
            w.Write((short)t.Offset.TotalMinutes);
        }
    }

    private static DateTimeOffset? ReadTime(BinaryReader r)
    {
        if (!r.ReadBoolean())
        {
            return null;
        }
        var ticks = r.ReadInt64();
        var offset = TimeSpan.FromMinutes(r.ReadInt16());
        return new DateTimeOffset(ticks, TimeSpan.Zero).ToOffset(offset);
    }
}
