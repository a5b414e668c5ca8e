using System.Buffers.Text;

namespace PollChat.Common.Protocol;

/// <summary>
/// File transfer between two rich-mode clients, through the server, inside classic frames (the
/// whole exchange is in PROTOCOL.md). The control messages are <c>/file</c> commands and
/// file events; the bytes travel as <c>/file data ID OFFSET BASE64</c> frames, which the server
/// passes on as pairs from <see cref="Sender"/> without decoding them, and the receiver answers
/// with <c>/file ack ID OFFSET</c>. The sender never has more than <see cref="WindowBytes"/>
/// unacknowledged, so the server never holds more than that per transfer.
/// </summary>
public static class FileTransferProtocol
{
    /// <summary>The reserved sender of data and ack pairs (a name cannot start with '*').</summary>
    public const string Sender = "*file*";

    /// <summary>Every file frame a client sends starts with this.</summary>
    public const string CommandPrefix = "/file ";

    /// <summary>A data frame, as the sender writes it; the server relays what follows "/file ".</summary>
    public const string DataPrefix = "/file data ";

    /// <summary>An acknowledgement, as the receiver writes it; relayed the same way.</summary>
    public const string AckPrefix = "/file ack ";

    /// <summary>File bytes per data frame: 32 KiB, 43,692 bytes of base64, well inside the 64 KiB message limit.</summary>
    public const int ChunkBytes = 32 * 1024;

    /// <summary>
    /// File bytes a sender may have sent but not had acknowledged: four chunks. Enough to keep a
    /// LAN busy, and small next to the server's 1 MiB output limit per client, so a receiver
    /// with several transfers and a busy room is never dropped for it.
    /// </summary>
    public const int WindowBytes = 4 * ChunkBytes;

    /// <summary>
    /// The number of file bytes a data frame's base64 holds; -1 unless it is standard base64 with
    /// padding and nothing else: no whitespace, no other byte. Checked in place, without decoding
    /// or allocating, because the server passes data on to another terminal as it came.
    /// </summary>
    public static long DecodedLength(ReadOnlySpan<byte> base64)
    {
        if (base64.IsEmpty || base64.Length % 4 != 0)
        {
            return -1;
        }

        int padding = base64[^1] == (byte)'=' ? (base64[^2] == (byte)'=' ? 2 : 1) : 0;
        long length = ((long)base64.Length / 4 * 3) - padding;
        // IsValid skips whitespace (so "AAAA\r\nAAAA" passes it); with any, it decodes fewer bytes than the length says.
        return Base64.IsValid(base64, out int decoded) && decoded == length ? length : -1;
    }

    /// <summary>Reads "ID OFFSET" and what follows from the text after a data or ack prefix; false if it is not that.</summary>
    public static bool TryParseIdAndOffset(ReadOnlySpan<byte> text, out int id, out long offset, out ReadOnlySpan<byte> rest)
    {
        offset = 0;
        rest = default;
        if (!Utf8Parser.TryParse(text, out id, out int idLength) || id <= 0 || idLength >= text.Length || text[idLength] != (byte)' ')
        {
            return false;
        }

        text = text[(idLength + 1)..];
        if (!Utf8Parser.TryParse(text, out offset, out int offsetLength) || offset < 0)
        {
            return false;
        }

        rest = text[offsetLength..];
        if (!rest.IsEmpty && rest[0] != (byte)' ')
        {
            return false;
        }

        rest = rest.IsEmpty ? rest : rest[1..];
        return true;
    }
}
