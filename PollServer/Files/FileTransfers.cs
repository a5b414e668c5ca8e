using System.Globalization;
using System.Text;
using NLog;
using PollChat.Common.Framing;
using PollChat.Common.Protocol;
using PollChat.Server.Chat;
using PollChat.Server.Loop;
using PollChat.Server.Moderation;

namespace PollChat.Server.Files;

/// <summary>
/// File transfer between rich clients (PROTOCOL.md, "File transfer"). Offers, answers and ends
/// are /file commands and file events, rare enough to take the ordinary command path. The data
/// and its acknowledgements are the hot path: checked where they lie in the receive buffer and
/// passed on as pairs from *file* without being decoded, copied or counted against the message
/// rate; the window, not the rate, paces them. This class owns the transfers going on and their
/// deadlines; the commands that start and end them are <c>/file</c>'s.
/// </summary>
internal sealed class FileTransfers(ServerOptions options, Users users, Outbox outbox, ModerationState moderation, IConnections connections, ServerCounters counters, Timers timers)
{
    private static readonly Logger Log = LogManager.GetCurrentClassLogger();

    /// <summary>The payload of a data frame carrying a whole chunk: the prefix and at least its base64.</summary>
    private static readonly int WholeChunkFrameBytes = FileTransferProtocol.DataPrefix.Length + (((FileTransferProtocol.ChunkBytes + 2) / 3) * 4);

    /// <summary>A transfer where nothing moved for a minute has a peer that stopped without closing; it is ended so both sides know.</summary>
    internal static readonly TimeSpan FileStallTimeout = TimeSpan.FromMinutes(1);

    /// <summary>Offers and stalls are looked for once a second: their timeouts are minutes.</summary>
    private const long TransferCheckIntervalMilliseconds = 1_000;

    /// <summary>A file name as offered, before the receiver makes it safe: enough for any file system's names.</summary>
    private const int MaxFileNameBytes = 255;

    private static readonly byte[] FileSenderFrame = Frame.Encode(FileTransferProtocol.Sender);

    private readonly Dictionary<int, FileTransfer> _transfers = [];
    private int _lastTransferId;
    private bool _checkScheduled;
    private Action<object?, long>? _check;

    /// <summary>Data and acknowledgements; false if the message is neither, and takes the ordinary path.</summary>
    public bool TryHandleFileStream(ChatUser client, ReadOnlySpan<byte> payload, long now)
    {
        if (payload.StartsWith("/file data "u8))
        {
            PassOnData(client, payload, now);
            return true;
        }

        if (payload.StartsWith("/file ack "u8))
        {
            PassOnAck(client, payload, now);
            return true;
        }

        return false;
    }

    private void PassOnData(ChatUser client, ReadOnlySpan<byte> payload, long now)
    {
        if (!FileTransferProtocol.TryParseIdAndOffset(payload[FileTransferProtocol.DataPrefix.Length..], out int id, out long offset, out ReadOnlySpan<byte> base64)
            || !_transfers.TryGetValue(id, out FileTransfer? transfer) || transfer.Sender != client || !transfer.Accepted)
        {
            RefuseFileFrame(client, Notices.NoDataTransfer, now);
            return;
        }

        long length = FileTransferProtocol.DecodedLength(base64);
        string? problem = length <= 0 || length > FileTransferProtocol.ChunkBytes ? Notices.DataFrameSize(FileTransferProtocol.ChunkBytes)
            : offset != transfer.Relayed ? Notices.DataOutOfOrder(offset, transfer.Relayed)
            : transfer.Relayed + length > transfer.Size ? Notices.DataBeyondSize
            : transfer.Relayed + length - transfer.Acked > FileTransferProtocol.WindowBytes ? Notices.DataBeyondWindow(FileTransferProtocol.WindowBytes)
            : null;
        if (problem is not null)
        {
            EndTransfer(transfer, Notices.TransferProtocolError(client.Name!, problem), now);
            return;
        }

        // A whole chunk, or the file's last bytes, is free; a shorter one multiplies the frames (and the acknowledgements) per byte, so it costs a message.
        if (length < FileTransferProtocol.ChunkBytes && transfer.Relayed + length < transfer.Size)
        {
            ChargeAsMessage(client);
        }

        transfer.Relayed += length;
        transfer.AcksOwed++;
        transfer.LastActivity = now;
        counters.FileBytesRelayed += length;
        connections.RefundBytes(client.Connection, Frame.EncodedLength(payload.Length));
        outbox.Send(transfer.Receiver, outbox.EncodePair(FileSenderFrame, payload[FileTransferProtocol.CommandPrefix.Length..]), now);
    }

    private void PassOnAck(ChatUser client, ReadOnlySpan<byte> payload, long now)
    {
        if (!FileTransferProtocol.TryParseIdAndOffset(payload[FileTransferProtocol.AckPrefix.Length..], out int id, out long offset, out ReadOnlySpan<byte> rest)
            || !rest.IsEmpty || !_transfers.TryGetValue(id, out FileTransfer? transfer) || transfer.Receiver != client || !transfer.Accepted)
        {
            RefuseFileFrame(client, Notices.NoAckTransfer, now);
            return;
        }

        // An acknowledgement moves forward or it says nothing: a repeat or a step back is never relayed (it was the flood that overflowed a sender).
        if (offset <= transfer.Acked || offset > transfer.Relayed)
        {
            EndTransfer(transfer, Notices.TransferProtocolError(client.Name!, offset <= transfer.Acked
                ? Notices.AckNotForward(offset, transfer.Acked)
                : Notices.AckBeyondSent(offset, transfer.Relayed)), now);
            return;
        }

        if (transfer.AcksOwed == 0)
        {
            ChargeAsMessage(client); // More acknowledgements than data frames: the rest are messages.
        }

        transfer.AcksOwed = offset == transfer.Relayed ? 0 : Math.Max(0, transfer.AcksOwed - 1);
        transfer.Acked = offset;
        transfer.LastActivity = now;
        connections.RefundBytes(client.Connection, Frame.EncodedLength(payload.Length));
        outbox.Send(transfer.Sender, outbox.EncodePair(FileSenderFrame, payload[FileTransferProtocol.CommandPrefix.Length..]), now);
    }

    /// <summary>A data or ack frame that fits no transfer is answered like a bad command, and costs a message of the rate: it cannot be used to flood.</summary>
    private void RefuseFileFrame(ChatUser client, string why, long now)
    {
        ChargeAsMessage(client);
        outbox.Error(client, why, now);
    }

    /// <summary>
    /// Takes a message from the client's rate for a file frame that is not free. The loop reads a
    /// frame only while the rate has a token (fakelag), so this never refuses: a client that sends
    /// such frames too fast is simply read more slowly.
    /// </summary>
    private void ChargeAsMessage(ChatUser client) => connections.ChargeMessage(client.Connection);

    /// <summary>/file offer|accept|decline|cancel|done: the rare messages of a transfer, each answered or passed on as an event.</summary>
    public void RunFileCommand(ChatUser client, string args, long now)
    {
        string[] words = args.Split(' ', 5);
        if (options.MaxFileBytes == 0)
        {
            outbox.Error(client, Notices.FileTransferOff, now);
            return;
        }

        if (!client.Rich)
        {
            outbox.Error(client, Notices.FileTransferNeedsRich, now);
            return;
        }

        switch (words[0])
        {
            case "offer" when words.Length == 5:
                Offer(client, words[1], words[2], words[3], words[4], now);
                break;
            case "accept" when words.Length == 3 && long.TryParse(words[2], NumberStyles.None, CultureInfo.InvariantCulture, out long offset):
                Accept(client, words[1], offset, now);
                break;
            case "decline" when words.Length == 2:
            case "cancel" when words.Length == 2:
            case "done" when words.Length == 3 && words[2] is "ok" or "bad":
                Conclude(client, words[0], words[1], words.Length == 3 && words[2] == "ok", now);
                break;
            default:
                outbox.Error(client, Notices.FileUsage, now);
                break;
        }
    }

    private void Offer(ChatUser sender, string to, string sizeText, string sha256, string name, long now)
    {
        if (moderation.RefusedAsMuted(sender, now))
        {
            outbox.Error(sender, Notices.NotOfferedMuted, now); // Every offer gets its one answer, so the client can pair them.
            return;
        }

        string? refusal = !long.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out long size) || size < 1 ? Notices.FileSizeInvalid
            : size > options.MaxFileBytes ? Notices.FileTooBig(name, size, options.MaxFileBytes)
            : sha256.Length != 64 || !sha256.All(char.IsAsciiHexDigitLower) ? Notices.FileHashInvalid
            : Encoding.UTF8.GetByteCount(name) > MaxFileNameBytes || ControlCharacters.Any(Encoding.UTF8.GetBytes(name)) ? Notices.FileNameInvalid(MaxFileNameBytes)
            : TransfersOf(sender) >= options.MaxTransfersPerUser ? Notices.YourTransfersFull(TransfersOf(sender), options.MaxTransfersPerUser)
            : null;
        if (refusal is not null)
        {
            outbox.Error(sender, Notices.NotOffered(refusal), now);
            return;
        }

        if (!users.TryGet(to, out ChatUser? receiver) || receiver.State != UserState.Chatting)
        {
            outbox.Error(sender, Notices.NotOffered(Notices.NoSuchUser(to)), now);
            return;
        }

        refusal = receiver == sender ? Notices.OfferToYourself
            : !receiver.Rich ? Notices.ReceiverClassic(receiver.Name!)
            : TransfersOf(receiver) >= options.MaxTransfersPerUser ? Notices.ReceiverTransfersFull(receiver.Name!, TransfersOf(receiver), options.MaxTransfersPerUser)
            : null;
        if (refusal is not null)
        {
            outbox.Error(sender, Notices.NotOffered(refusal), now);
            return;
        }

        var transfer = new FileTransfer(++_lastTransferId, sender, receiver, name, size, sha256, now);
        _transfers.Add(transfer.Id, transfer);
        (sender.Transfers ??= []).Add(transfer);
        (receiver.Transfers ??= []).Add(transfer);
        if (!_checkScheduled)
        {
            _checkScheduled = true; // The first in a while; later ones share its checks, which stop once no transfer is left.
            timers.At(now + TransferCheckIntervalMilliseconds, _check ??= (_, at) => EndStaleTransfers(at));
        }

        Log.Info("File transfer {Id}: {Sender} offers {Receiver} '{Name}' ({Size} bytes)", transfer.Id, sender.Name, receiver.Name, name, size);
        var offer = new RichEvent { Type = RichEventTypes.FileOffer, Id = transfer.Id, From = sender.Name, To = receiver.Name, Name = name, Size = size, Sha256 = sha256 };
        outbox.Event(receiver, offer, now);
        outbox.Event(sender, offer, now);
    }

    private void Accept(ChatUser receiver, string idText, long offset, long now)
    {
        if (Find(receiver, idText, now) is not { } transfer)
        {
            return;
        }

        if (transfer.Receiver != receiver || transfer.Accepted || offset > transfer.Size)
        {
            outbox.Error(receiver, transfer.Receiver != receiver ? Notices.TransferNotOfferedToYou(transfer.Id) : transfer.Accepted ? Notices.TransferAlreadyAccepted(transfer.Id) : Notices.TransferHasOnly(transfer.Id, transfer.Size), now);
            return;
        }

        transfer.Accepted = true;
        transfer.Relayed = transfer.Acked = offset;
        transfer.LastActivity = now;
        Log.Info("File transfer {Id}: accepted from byte {Offset}", transfer.Id, offset);
        var accepted = new RichEvent { Type = RichEventTypes.FileAccept, Id = transfer.Id, Offset = offset };
        outbox.Event(transfer.Sender, accepted, now);
        outbox.Event(receiver, accepted, now);
    }

    /// <summary>Decline (the receiver, before accepting), cancel (either side, any time) and done (the receiver, with the hash checked).</summary>
    private void Conclude(ChatUser client, string how, string idText, bool hashMatched, long now)
    {
        if (Find(client, idText, now) is not { } transfer)
        {
            return;
        }

        string? wrong = how switch
        {
            "decline" when transfer.Receiver != client || transfer.Accepted => Notices.TransferNotWaitingForYou(transfer.Id),
            "done" when transfer.Receiver != client || transfer.Acked != transfer.Size => Notices.TransferNotFinished(transfer.Id),
            _ => null,
        };
        if (wrong is not null)
        {
            outbox.Error(client, wrong, now);
            return;
        }

        EndTransfer(transfer, how switch
        {
            "decline" => Notices.TransferDeclined(client.Name!),
            "cancel" => Notices.TransferCancelled(client.Name!),
            _ => hashMatched ? Notices.TransferCompleted : Notices.TransferHashMismatch,
        }, now);
    }

    /// <summary>The transfer numbered <paramref name="idText"/> that <paramref name="client"/> takes part in; otherwise says so and returns null.</summary>
    private FileTransfer? Find(ChatUser client, string idText, long now)
    {
        if (int.TryParse(idText, NumberStyles.None, CultureInfo.InvariantCulture, out int id) && _transfers.TryGetValue(id, out FileTransfer? transfer)
            && (transfer.Sender == client || transfer.Receiver == client))
        {
            return transfer;
        }

        outbox.Error(client, Notices.NoSuchTransfer(idText), now);
        return null;
    }

    private static int TransfersOf(ChatUser client) => client.Transfers?.Count ?? 0;

    /// <summary>Ends a transfer, once, and tells both sides why.</summary>
    private void EndTransfer(FileTransfer transfer, string reason, long now)
    {
        if (!_transfers.Remove(transfer.Id))
        {
            return;
        }

        transfer.Sender.Transfers!.Remove(transfer);
        transfer.Receiver.Transfers!.Remove(transfer);
        Log.Info("File transfer {Id}: {Reason} after {Bytes} of {Size} bytes", transfer.Id, reason, transfer.Acked, transfer.Size);
        var ended = new RichEvent { Type = RichEventTypes.FileEnd, Id = transfer.Id, Reason = reason };
        outbox.Event(transfer.Sender, ended, now);
        outbox.Event(transfer.Receiver, ended, now);
    }

    /// <summary>A client that leaves interrupts its transfers: the other side is told, and a receiver keeps what it has, to resume.</summary>
    public void InterruptTransfersOf(ChatUser gone, long now)
    {
        if (gone.Transfers is not { Count: > 0 } transfers)
        {
            return;
        }

        foreach (FileTransfer transfer in transfers.ToArray())
        {
            EndTransfer(transfer, Notices.TransferInterrupted(gone.Name!), now);
        }
    }

    /// <summary>Offers nobody answered and transfers where nothing moves are ended.</summary>
    private void EndStaleTransfers(long now)
    {
        if (_transfers.Count == 0)
        {
            _checkScheduled = false;
            return;
        }

        timers.At(now + TransferCheckIntervalMilliseconds, _check!);
        foreach (FileTransfer transfer in _transfers.Values.ToArray())
        {
            if (!transfer.Accepted && now - transfer.OfferedAt >= (long)options.FileOfferTimeout.TotalMilliseconds)
            {
                EndTransfer(transfer, Notices.TransferExpired(options.FileOfferTimeout), now);
            }
            else if (transfer.Accepted && now - transfer.LastActivity >= (long)FileStallTimeout.TotalMilliseconds)
            {
                EndTransfer(transfer, Notices.TransferStalled(FileStallTimeout), now);
            }
        }
    }


    /// <summary>
    /// File data, and the acknowledgements a receiver owes for it, are paced by their transfer's
    /// window, not the message rate, so they pass while other frames are held back. Checked only
    /// when the rate is spent; a client has a few transfers at most.
    /// </summary>
    public static bool IsFileStream(ChatUser client, ReadOnlySpan<byte> payloadStart, int declared)
    {
        if (client.State != UserState.Chatting || client.Transfers is null)
        {
            return false;
        }

        if (payloadStart.StartsWith("/file data "u8))
        {
            // Whole chunks, and the file's last bytes, are free; a shorter frame costs a message, so it waits like one.
            if (!FileTransferProtocol.TryParseIdAndOffset(payloadStart[FileTransferProtocol.DataPrefix.Length..], out int id, out _, out _))
            {
                return false;
            }

            foreach (FileTransfer transfer in client.Transfers)
            {
                if (transfer.Id == id && transfer.Sender == client)
                {
                    return declared >= WholeChunkFrameBytes || transfer.Size - transfer.Relayed <= FileTransferProtocol.ChunkBytes;
                }
            }

            return false;
        }

        if (payloadStart.StartsWith("/file ack "u8))
        {
            foreach (FileTransfer transfer in client.Transfers)
            {
                if (transfer.Receiver == client && transfer.AcksOwed > 0)
                {
                    return true;
                }
            }
        }

        return false;
    }
}
