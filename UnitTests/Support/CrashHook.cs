using System.Runtime.InteropServices;

/// <summary>
/// A .NET startup hook (<c>DOTNET_STARTUP_HOOKS</c>) that makes a real program crash on demand,
/// the way a bug would: SIGUSR2 starts a thread that throws. Tests load it into PollClient to see
/// what a crash leaves of the terminal, and the programs carry no code for it. The runtime looks
/// for exactly this name, in no namespace, with this Initialize method.
/// </summary>
#pragma warning disable CA1050 // The runtime finds a startup hook by its bare name.
internal static class StartupHook
#pragma warning restore CA1050
{
    /// <summary>The hook arms itself only when this names a file; it writes the process id there once armed.</summary>
    public const string PidFileVariable = "POLLCHAT_TEST_CRASH_PID_FILE";

    /// <summary>SIGUSR2 on Linux: a signal the programs do not use, passed as a raw number as PosixSignal allows.</summary>
    private const int SigUsr2 = 12;

    private static PosixSignalRegistration? s_registration;

    public static void Initialize()
    {
        if (Environment.GetEnvironmentVariable(PidFileVariable) is not { Length: > 0 } pidFile)
        {
            return;
        }

        s_registration = PosixSignalRegistration.Create((PosixSignal)SigUsr2, context =>
        {
            context.Cancel = true; // Not the signal's default action (terminate), but an exception nobody catches.
            new Thread(() => throw new InvalidOperationException("A crash asked for by a test (SIGUSR2).")).Start();
        });
        File.WriteAllText(pidFile, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
