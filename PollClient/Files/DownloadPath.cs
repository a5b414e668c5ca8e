using System.Text;
using PollChat.Common.Protocol;

namespace PollChat.Client.Files;

/// <summary>
/// Where a received file goes. The name comes from another user, so it is never trusted: only
/// its last component is kept (no directories, no "..", no absolute path), without control,
/// bidi or invisible characters, leading dots or characters Windows refuses; the result always lies inside the
/// chosen directory, and an existing file is never overwritten.
/// </summary>
public static class DownloadPath
{
    /// <summary>The name used when nothing of the offered one is left.</summary>
    public const string FallbackName = "received-file";

    /// <summary>Most file systems allow 255 bytes per name; room is left for " (99)".</summary>
    private const int MaxNameBytes = 200;

    /// <summary>Where files go without /accept naming a directory: ~/Downloads.</summary>
    public static string DefaultDirectory => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), "Downloads");

    /// <summary>
    /// A name for <paramref name="offered"/> that is safe to save and reads as what it is: the display
    /// policy first (PROTOCOL.md), so a bidi override cannot make "invoice\u202Efdp.exe" look like a
    /// PDF and zero-width characters cannot hide in it, then the file system's rules.
    /// </summary>
    public static string SafeName(string offered)
    {
        string last = ControlCharacters.Strip(offered).Replace('\\', '/');
        last = last[(last.LastIndexOf('/') + 1)..];
        var safe = new StringBuilder(last.Length);
        foreach (char c in last)
        {
            if (!char.IsControl(c))
            {
                safe.Append(c is ':' or '*' or '?' or '"' or '<' or '>' or '|' ? '_' : c);
            }
        }

        string name = safe.ToString().Trim().TrimStart('.').TrimEnd('.', ' ');
        while (Encoding.UTF8.GetByteCount(name) > MaxNameBytes)
        {
            name = name[..^1];
        }

        return name.Length == 0 ? FallbackName : name;
    }

    /// <summary>The partial file of a download, named by the file's SHA-256, so that the same file offered again resumes it whatever it is called.</summary>
    public static string PartFile(string directory, string sha256) => Path.Combine(directory, $".pollchat-{sha256}.part");

    /// <summary>
    /// Moves a finished download to its place under a safe name, never over an existing file:
    /// "report.pdf", then "report (1).pdf", and so on. Returns where it went.
    /// </summary>
    public static string MoveIntoPlace(string partFile, string directory, string offeredName)
    {
        string name = SafeName(offeredName);
        string stem = Path.GetFileNameWithoutExtension(name);
        string extension = Path.GetExtension(name);
        string root = Path.GetFullPath(directory) + Path.DirectorySeparatorChar;
        for (int copy = 0; ; copy++)
        {
            string candidate = Path.GetFullPath(Path.Combine(directory, copy == 0 ? name : $"{stem} ({copy}){extension}"));
            if (!candidate.StartsWith(root, StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"'{offeredName}' would be saved outside {directory}"); // SafeName makes this impossible; checked anyway.
            }

            if (File.Exists(candidate) || Directory.Exists(candidate))
            {
                continue;
            }

            try
            {
                File.Move(partFile, candidate, overwrite: false);
                return candidate;
            }
            catch (IOException) when (File.Exists(candidate))
            {
                // Someone made it between the check and the move: the next number.
            }
        }
    }
}
