using System.Diagnostics;

namespace PollChat.Tests.Support;

/// <summary>
/// A real terminal for the interactive client: a detached tmux session on a tmux server of its
/// own (its own socket), so tests never touch anyone's tmux. Keys go in with send-keys, the
/// screen comes out with capture-pane; waiting means asking again until the screen shows what
/// is expected, with a timeout. Disposing kills the tmux server, and the programs in it.
/// </summary>
internal sealed class TmuxSession : IDisposable
{
    private readonly string _socket = "pollchat-test-" + Guid.NewGuid().ToString("N");
    private const string Target = "chat";

    public TmuxSession(int width, int height, params string[] command)
    {
        Tmux(["new-session", "-d", "-s", Target, "-x", Num(width), "-y", Num(height), .. command]);
    }

    /// <summary>Types <paramref name="text"/> literally.</summary>
    public void Type(string text) => Tmux(["send-keys", "-t", Target, "-l", text]);

    /// <summary>Presses keys by tmux name: Enter, Tab, C-c, Left...</summary>
    public void Press(params string[] keys) => Tmux(["send-keys", "-t", Target, .. keys]);

    public void Resize(int width, int height) => Tmux(["resize-window", "-t", Target, "-x", Num(width), "-y", Num(height)]);

    /// <summary>The screen's rows as text.</summary>
    public string[] Screen() => Tmux(["capture-pane", "-p", "-t", Target]).TrimEnd('\n').Split('\n');

    /// <summary>A tmux format variable of the pane: alternate_on, cursor_y...</summary>
    public string Query(string variable) => Tmux(["display-message", "-p", "-t", Target, $"#{{{variable}}}"]).Trim();

    /// <summary>Asks for the screen until <paramref name="shows"/> holds; returns that screen.</summary>
    public string[] WaitFor(Func<string[], bool> shows, TimeSpan? timeout = null)
    {
        DateTime deadline = DateTime.UtcNow + (timeout ?? RawClient.DefaultTimeout);
        string[] screen = Screen();
        while (!shows(screen))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The screen never showed what was expected:\n" + string.Join("\n", screen));
            }

            Thread.Sleep(50); // Polling the terminal: nothing signals a redraw.
            screen = Screen();
        }

        return screen;
    }

    public void Dispose()
    {
        try
        {
            Tmux(["kill-server"]);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private static string Num(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private string Tmux(string[] arguments)
    {
        var info = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-L");
        info.ArgumentList.Add(_socket);
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["TERM"] = "xterm-256color";
        using System.Diagnostics.Process tmux = System.Diagnostics.Process.Start(info)!; // Qualified: the namespace PollChat.Tests.Process hides the type.
        string output = tmux.StandardOutput.ReadToEnd();
        string errors = tmux.StandardError.ReadToEnd();
        tmux.WaitForExit();
        if (tmux.ExitCode != 0)
        {
            throw new InvalidOperationException($"tmux {string.Join(' ', arguments)} failed: {errors}");
        }

        return output;
    }
}
