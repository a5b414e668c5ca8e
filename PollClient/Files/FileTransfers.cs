using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using PollChat.Common.Protocol;

namespace PollChat.Client.Files;

/// <summary>Sends one frame to the server.</summary>
public delegate void FrameSender(ReadOnlySpan<byte> payload);

/// <summary>
/// The client's side of file transfer (PROTOCOL.md, "File transfer"): the commands a user
/// types (/send, /accept, /decline, /cancel, /transfers), the file events, and the data and
/// acknowledgements. Owned by the network thread. Hashing a whole file takes seconds for a big
/// one, so it runs on a worker and its result is posted back; reading and writing one chunk
/// is a page-cache copy, done in place. An offer to someone the client's tracked user list says is
/// offline is refused before anything is hashed (the list is passed in as <c>isOnline</c>, which
/// answers null when it is not current).
/// </summary>
public sealed class FileTransfers(ChatView view, FrameSender send, Action<Action> post, string downloadDirectory, Func<bool> interactive, Func<string, bool?>? isOnline = null)
{
    /// <summary>In plain mode a transfer reports its progress at most this often: enough to see it move, not a flood.</summary>
    private static readonly TimeSpan PlainProgressInterval = TimeSpan.FromSeconds(2);

    /// <summary>Cells of the progress bar in the status line.</summary>
    private const int BarCells = 10;

    private readonly Queue<Outgoing> _offersAwaitingNumbers = new();
    private readonly Dictionary<int, Transfer> _transfers = [];
    private readonly byte[] _chunk = new byte[FileTransferProtocol.ChunkBytes];
    private byte[] _frame = [];

    /// <summary>The words that are file commands, handled here and never sent as they are.</summary>
    public static bool IsFileCommand(string line) => CommandWord(line) is "/send" or "/accept" or "/decline" or "/cancel" or "/transfers";

    /// <summary>The status line's part: the first active transfer's bar, rate and time left, and how many more there are.</summary>
    public string? StatusText
    {
        get
        {
            List<Transfer> moving = [.. _transfers.Values.Where(t => t.Started is not null)];
            if (moving.Count == 0)
            {
                return _transfers.Count == 0 ? null : $"{_transfers.Count} file {(_transfers.Count == 1 ? "offer" : "offers")} waiting";
            }

            Transfer first = moving[0];
            int filled = (int)(BarCells * first.Done / Math.Max(1, first.Size));
            return $"{(first is Outgoing ? "↑" : "↓")} {first.Name} [{new string('#', filled)}{new string('-', BarCells - filled)}] {Progress(first, brief: true)}{(moving.Count > 1 ? $" (+{moving.Count - 1} more)" : "")}";
        }
    }

    /// <summary>Runs a typed file command; the caller has checked <see cref="IsFileCommand"/> and that the server speaks rich mode.</summary>
    public void Command(string line)
    {
        string[] words = line.Trim().Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
        switch (words[0].ToLowerInvariant())
        {
            case "/send":
                if (words.Length < 3)
                {
                    view.Status("usage: /send <user> <path>");
                    return;
                }

                Send(words[1], words[2]);
                break;
            case "/accept":
                Accept(words.Length > 1 ? words[1] : null, words.Length > 2 ? words[2] : null);
                break;
            case "/decline":
            case "/cancel":
                bool declining = words[0].Equals("/decline", StringComparison.OrdinalIgnoreCase);
                if (Choose(words.Length > 1 ? words[1] : null, declining ? t => t is Incoming { Accepted: false } : _ => true, declining ? "offer to decline" : "transfer to cancel") is { } transfer)
                {
                    SendText($"/file {(declining ? "decline" : "cancel")} {transfer.Id}");
                }

                break;
            default:
                ListTransfers();
                break;
        }
    }

    /// <summary>A file event from the server.</summary>
    public void OnEvent(RichEvent e, string? myName)
    {
        switch (e.Type)
        {
            case RichEventTypes.FileOffer when string.Equals(e.From, myName, StringComparison.OrdinalIgnoreCase):
                if (_offersAwaitingNumbers.TryDequeue(out Outgoing? offered))
                {
                    offered.Id = e.Id ?? 0;
                    _transfers[offered.Id] = offered;
                    view.Status($"Offered {offered.Name} ({Units.Bytes(offered.Size)}) to {offered.Peer} as transfer {offered.Id}; waiting for them to accept.");
                }

                break;
            // The SHA-256 names the partial file, so it must be hex (a hostile server could send "../.."); a number already in use is not taken over.
            case RichEventTypes.FileOffer when e is { Id: int id, Size: long size and > 0, Sha256: { Length: 64 } sha256, Name: not null, From: not null }
                && sha256.All(char.IsAsciiHexDigitLower) && !_transfers.ContainsKey(id):
                var incoming = new Incoming(id, e.From, ChatView.Neutralise(e.Name), size, e.Sha256); // The name is shown in many lines; made safe for a file name later.
                _transfers[id] = incoming;
                long partial = PartialLength(downloadDirectory, incoming);
                view.Status($"{e.From} offers {incoming.Name} ({Units.Bytes(size)}, SHA-256 {e.Sha256[..16]}...). " +
                    $"Type /accept {id} to save it in {downloadDirectory}{(partial > 0 ? $" (resuming from {Units.Bytes(partial)})" : "")}, /accept {id} <directory> to save it elsewhere, or /decline {id}.");
                break;
            case RichEventTypes.FileAccept when e is { Id: int id, Offset: long offset } && _transfers.TryGetValue(id, out Transfer? transfer):
                if (transfer is Outgoing { Stream: null } outgoing && offset >= 0 && offset <= outgoing.Size)
                {
                    StartSending(outgoing, offset);
                }

                break;
            case RichEventTypes.FileEnd when e.Id is int id && _transfers.Remove(id, out Transfer? ended):
                Finish(ended, e.Reason ?? "ended");
                break;
        }
    }

    /// <summary>An error event: "Not offered: ..." answers the oldest offer still waiting for its number.</summary>
    public void OnError(string text)
    {
        if (text.StartsWith("Not offered:", StringComparison.Ordinal))
        {
            _offersAwaitingNumbers.TryDequeue(out _);
        }
    }

    /// <summary>A pair from *file*: "data ID OFFSET BASE64" for a receiver, "ack ID OFFSET" for a sender.</summary>
    public void OnFilePair(ReadOnlySpan<byte> text)
    {
        bool data = text.StartsWith("data "u8);
        if ((!data && !text.StartsWith("ack "u8))
            || !FileTransferProtocol.TryParseIdAndOffset(text[(data ? 5 : 4)..], out int id, out long offset, out ReadOnlySpan<byte> rest)
            || !_transfers.TryGetValue(id, out Transfer? transfer))
        {
            return; // A transfer just cancelled may still have data on the way.
        }

        if (data && transfer is Incoming { Stream: not null } incoming)
        {
            Receive(incoming, offset, rest);
        }
        else if (!data && transfer is Outgoing outgoing && offset >= outgoing.Acked && offset <= outgoing.Sent)
        {
            outgoing.Acked = offset;
            Pump(outgoing);
        }
    }

    /// <summary>The connection is gone: every transfer is over, and what was received is kept to resume.</summary>
    public void ConnectionLost()
    {
        foreach (Transfer transfer in _transfers.Values)
        {
            Finish(transfer, "interrupted: the connection was lost");
        }

        _transfers.Clear();
        _offersAwaitingNumbers.Clear();
    }

    private void Send(string to, string typedPath)
    {
        if (isOnline?.Invoke(to) == false)
        {
            view.Status($"Not sent: {to} is not online."); // Before hashing: a big file takes seconds to hash for nothing.
            return;
        }

        string path = ExpandHome(typedPath);
        var file = new FileInfo(path);
        if (!file.Exists || file.Length == 0)
        {
            view.Status(file.Exists ? $"Not sent: {path} is empty." : $"Not sent: there is no file {path}.");
            return;
        }

        view.Status($"Computing the SHA-256 of {file.Name} ({Units.Bytes(file.Length)})...");
        Task.Run(() =>
        {
            try
            {
                using FileStream stream = File.OpenRead(file.FullName);
                string sha256 = Convert.ToHexStringLower(SHA256.HashData(stream));
                post(() => OfferHashed(new Outgoing(to, file.FullName, file.Name, file.Length, sha256)));
            }
            catch (IOException e)
            {
                post(() => view.Status($"Not sent: cannot read {path}: {e.Message}"));
            }
            catch (UnauthorizedAccessException e)
            {
                post(() => view.Status($"Not sent: cannot read {path}: {e.Message}"));
            }
        });
    }

    /// <summary>"~/x" as the shell would read it: the user's home, then x.</summary>
    private static string ExpandHome(string typed) =>
        typed.StartsWith("~/", StringComparison.Ordinal) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), typed[2..]) : typed;

    private void OfferHashed(Outgoing outgoing)
    {
        _offersAwaitingNumbers.Enqueue(outgoing);
        SendText($"/file offer {outgoing.Peer} {outgoing.Size.ToString(CultureInfo.InvariantCulture)} {outgoing.Sha256} {outgoing.Name}");
    }

    private void Accept(string? idText, string? directoryText)
    {
        if (directoryText is null && idText is not null && !int.TryParse(idText, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            (idText, directoryText) = (null, idText); // "/accept ~/Downloads": with one offer, the word is where to save it.
        }

        if (Choose(idText, t => t is Incoming { Accepted: false }, "offer to accept") is not Incoming incoming)
        {
            return;
        }

        string directory = directoryText is null ? downloadDirectory : Path.GetFullPath(ExpandHome(directoryText));
        if (directoryText is not null && !Directory.Exists(directory))
        {
            view.Status($"Not accepted: there is no directory {directory}.");
            return;
        }

        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            view.Status($"Not accepted: cannot use {directory}: {e.Message}");
            return;
        }

        incoming.Accepted = true;
        incoming.Directory = directory;
        string part = DownloadPath.PartFile(directory, incoming.Sha256);
        // What an interrupted transfer left is hashed on a worker, then the rest is asked for from where it stops.
        Task.Run(() =>
        {
            try
            {
                var stream = new FileStream(part, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                if (stream.Length > incoming.Size)
                {
                    stream.SetLength(0);
                }

                var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                byte[] buffer = new byte[FileTransferProtocol.ChunkBytes];
                for (int read; (read = stream.Read(buffer)) > 0;)
                {
                    hash.AppendData(buffer, 0, read);
                }

                post(() => StartReceiving(incoming, stream, hash));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                post(() =>
                {
                    view.Status($"Not accepted: cannot write {part}: {e.Message}");
                    incoming.Accepted = false;
                });
            }
        });
    }

    private void StartReceiving(Incoming incoming, FileStream stream, IncrementalHash hash)
    {
        if (!_transfers.ContainsKey(incoming.Id))
        {
            stream.Dispose(); // Cancelled or expired while the partial file was read.
            hash.Dispose();
            return;
        }

        incoming.Stream = stream;
        incoming.Hash = hash;
        incoming.Done = stream.Length;
        incoming.Begin(stream.Length);
        view.Status($"Receiving {incoming.Name} from {incoming.Peer} into {incoming.Directory}{(stream.Length > 0 ? $", resuming from {Units.Bytes(stream.Length)}" : "")}.");
        SendText($"/file accept {incoming.Id} {stream.Length.ToString(CultureInfo.InvariantCulture)}");
        if (incoming.Done == incoming.Size)
        {
            Complete(incoming); // All of it was here already (the last transfer broke before its end was agreed): only the check is left.
        }
    }

    private void Receive(Incoming incoming, long offset, ReadOnlySpan<byte> base64)
    {
        if (offset != incoming.Done || Base64.DecodeFromUtf8(base64, _chunk, out _, out int length) != System.Buffers.OperationStatus.Done
            || length == 0 || incoming.Done + length > incoming.Size)
        {
            // Written no further from here: the frames still on their way are ignored, not each answered with a cancel and a line.
            incoming.Stream!.Dispose();
            incoming.Stream = null;
            SendText($"/file cancel {incoming.Id}");
            view.Status($"Transfer {incoming.Id}: the data arrived damaged or out of order; cancelled.");
            return;
        }

        incoming.Stream!.Write(_chunk, 0, length);
        incoming.Hash!.AppendData(_chunk, 0, length);
        incoming.Done += length;
        SendText($"/file ack {incoming.Id} {incoming.Done.ToString(CultureInfo.InvariantCulture)}");
        ReportProgress(incoming);
        if (incoming.Done == incoming.Size)
        {
            Complete(incoming);
        }
    }

    /// <summary>All bytes are in: the file is kept only if its SHA-256 is the one offered.</summary>
    private void Complete(Incoming incoming)
    {
        string actual = Convert.ToHexStringLower(incoming.Hash!.GetHashAndReset());
        incoming.Stream!.Dispose();
        incoming.Stream = null;
        string part = DownloadPath.PartFile(incoming.Directory!, incoming.Sha256);
        if (actual != incoming.Sha256)
        {
            File.Delete(part);
            incoming.Outcome = $"not kept: its SHA-256 is {actual}, not the {incoming.Sha256} offered";
            SendText($"/file done {incoming.Id} bad");
            return;
        }

        string saved = DownloadPath.MoveIntoPlace(part, incoming.Directory!, incoming.Name);
        incoming.Outcome = $"saved as {saved} (SHA-256 checked)";
        SendText($"/file done {incoming.Id} ok");
    }

    private void StartSending(Outgoing outgoing, long offset)
    {
        try
        {
            outgoing.Stream = File.OpenRead(outgoing.Path);
            outgoing.Stream.Position = offset;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            view.Status($"Transfer {outgoing.Id}: cannot read {outgoing.Path}: {e.Message}; cancelled.");
            SendText($"/file cancel {outgoing.Id}");
            return;
        }

        outgoing.Sent = outgoing.Acked = outgoing.Done = offset;
        outgoing.Begin(offset);
        view.Status($"{outgoing.Peer} accepted {outgoing.Name}{(offset > 0 ? $", resuming from {Units.Bytes(offset)}" : "")}; sending.");
        Pump(outgoing);
    }

    /// <summary>Sends chunks while the window has room: at most <see cref="FileTransferProtocol.WindowBytes"/> unacknowledged.</summary>
    private void Pump(Outgoing outgoing)
    {
        outgoing.Done = outgoing.Acked;
        ReportProgress(outgoing);
        while (outgoing.Stream is not null && outgoing.Sent < outgoing.Size && outgoing.Sent - outgoing.Acked + FileTransferProtocol.ChunkBytes <= FileTransferProtocol.WindowBytes)
        {
            int read = outgoing.Stream.Read(_chunk, 0, (int)Math.Min(_chunk.Length, outgoing.Size - outgoing.Sent));
            if (read == 0)
            {
                view.Status($"Transfer {outgoing.Id}: {outgoing.Path} became shorter while it was sent; cancelled.");
                SendText($"/file cancel {outgoing.Id}");
                return;
            }

            string head = $"{FileTransferProtocol.DataPrefix}{outgoing.Id} {outgoing.Sent.ToString(CultureInfo.InvariantCulture)} ";
            int length = head.Length + Base64.GetMaxEncodedToUtf8Length(read);
            if (_frame.Length < length)
            {
                _frame = new byte[length];
            }

            Encoding.ASCII.GetBytes(head, _frame);
            Base64.EncodeToUtf8(_chunk.AsSpan(0, read), _frame.AsSpan(head.Length), out _, out int written);
            outgoing.Sent += read;
            send(_frame.AsSpan(0, head.Length + written));
        }
    }

    private void Finish(Transfer transfer, string reason)
    {
        transfer.Stream?.Dispose();
        transfer.Stream = null;
        if (transfer is Incoming incoming)
        {
            incoming.Hash?.Dispose();
            bool keepPartial = reason.StartsWith("interrupted", StringComparison.Ordinal) || reason.StartsWith("stalled", StringComparison.Ordinal);
            if (!keepPartial && incoming.Directory is not null && reason != "completed")
            {
                File.Delete(DownloadPath.PartFile(incoming.Directory, incoming.Sha256));
            }

            view.Status(reason == "completed" || incoming.Outcome is not null
                ? $"Transfer {transfer.Id}: {incoming.Name} from {incoming.Peer} {incoming.Outcome ?? reason}."
                : $"Transfer {transfer.Id} ({incoming.Name} from {incoming.Peer}): {reason}.{(keepPartial && incoming.Done > 0 ? $" The {Units.Bytes(incoming.Done)} received are kept; accepting the same file again resumes from there." : "")}");
            return;
        }

        view.Status(reason == "completed"
            ? $"Transfer {transfer.Id}: {transfer.Name} sent to {transfer.Peer}, and its SHA-256 checked there."
            : $"Transfer {transfer.Id} ({transfer.Name} to {transfer.Peer}): {reason}.");
    }

    private void ListTransfers()
    {
        if (_transfers.Count == 0)
        {
            view.Status("No file transfers.");
            return;
        }

        foreach (Transfer transfer in _transfers.Values.OrderBy(t => t.Id))
        {
            string direction = transfer is Outgoing ? $"to {transfer.Peer}" : $"from {transfer.Peer}";
            string state = transfer.Started is null ? (transfer is Incoming { Accepted: false } ? "offered to you: /accept or /decline" : "waiting to be accepted") : Progress(transfer);
            view.Status($"Transfer {transfer.Id}: {transfer.Name} ({Units.Bytes(transfer.Size)}) {direction}, {state}");
        }
    }

    /// <summary>The transfer a command means: the one numbered, or the only one that fits when no number is given.</summary>
    private Transfer? Choose(string? idText, Func<Transfer, bool> fits, string what)
    {
        if (idText is not null)
        {
            if (int.TryParse(idText, NumberStyles.None, CultureInfo.InvariantCulture, out int id) && _transfers.TryGetValue(id, out Transfer? numbered) && fits(numbered))
            {
                return numbered;
            }

            view.Status($"There is no {what} numbered {idText}; /transfers lists them.");
            return null;
        }

        List<Transfer> candidates = [.. _transfers.Values.Where(fits)];
        if (candidates.Count == 1)
        {
            return candidates[0];
        }

        view.Status(candidates.Count == 0 ? $"There is no {what}." : $"There is more than one {what}: give its number ({string.Join(", ", candidates.Select(t => t.Id))}).");
        return null;
    }

    private void ReportProgress(Transfer transfer)
    {
        if (interactive() || transfer.Done == transfer.Size || DateTime.UtcNow - transfer.LastReport < PlainProgressInterval)
        {
            return;
        }

        transfer.LastReport = DateTime.UtcNow;
        view.Status($"Transfer {transfer.Id} ({transfer.Name}): {Progress(transfer)}");
    }

    /// <summary>"45% of 50.0 MiB, 12.3 MiB/s, 3 s left", or for the status line, where room is short, "45% 12.3 MiB/s 3 s left".</summary>
    private static string Progress(Transfer transfer, bool brief = false)
    {
        double seconds = Math.Max(0.001, (DateTime.UtcNow - transfer.Started!.Value).TotalSeconds);
        double rate = (transfer.Done - transfer.StartOffset) / seconds;
        string left = rate > 0 ? Units.Duration(TimeSpan.FromSeconds((transfer.Size - transfer.Done) / rate)) + " left" : "starting";
        return brief
            ? string.Create(CultureInfo.InvariantCulture, $"{100 * transfer.Done / transfer.Size}% {Units.Rate(rate)} {left}")
            : string.Create(CultureInfo.InvariantCulture, $"{100 * transfer.Done / transfer.Size}% of {Units.Bytes(transfer.Size)}, {Units.Rate(rate)}, {left}");
    }

    private static long PartialLength(string directory, Incoming incoming)
    {
        var part = new FileInfo(DownloadPath.PartFile(directory, incoming.Sha256));
        return part.Exists && part.Length <= incoming.Size ? part.Length : 0;
    }

    private void SendText(string text) => send(Encoding.UTF8.GetBytes(text));

    private static string CommandWord(string line)
    {
        string trimmed = line.TrimStart();
        int space = trimmed.IndexOf(' ', StringComparison.Ordinal);
        return (space < 0 ? trimmed : trimmed[..space]).ToLowerInvariant();
    }

    private abstract class Transfer(string peer, string name, long size, string sha256)
    {
        public int Id { get; set; }

        public string Peer { get; } = peer;

        public string Name { get; } = name;

        public long Size { get; } = size;

        public string Sha256 { get; } = sha256;

        public FileStream? Stream { get; set; }

        /// <summary>Bytes done: acknowledged (sending) or written (receiving).</summary>
        public long Done { get; set; }

        /// <summary>When the data started to move; null while offered.</summary>
        public DateTime? Started { get; private set; }

        /// <summary>Where it started (more than 0 when resumed), so the rate counts only this session's bytes.</summary>
        public long StartOffset { get; private set; }

        public DateTime LastReport { get; set; }

        public void Begin(long offset)
        {
            Started = LastReport = DateTime.UtcNow;
            StartOffset = offset;
        }
    }

    private sealed class Outgoing(string to, string path, string name, long size, string sha256) : Transfer(to, name, size, sha256)
    {
        public string Path { get; } = path;

        public long Sent { get; set; }

        public long Acked { get; set; }
    }

    private sealed class Incoming : Transfer
    {
        public Incoming(int id, string from, string name, long size, string sha256)
            : base(from, name, size, sha256) => Id = id;

        public bool Accepted { get; set; }

        public string? Directory { get; set; }

        public IncrementalHash? Hash { get; set; }

        /// <summary>What became of the file once complete, for the closing line.</summary>
        public string? Outcome { get; set; }
    }
}
