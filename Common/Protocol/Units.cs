using System.Globalization;

namespace PollChat.Common.Protocol;

/// <summary>Sizes, rates and times as people read them, the same in the server's refusals and the client's progress.</summary>
public static class Units
{
    private static readonly string[] ByteUnits = ["B", "KiB", "MiB", "GiB", "TiB"];

    /// <summary>"512 B", "1.5 KiB", "50.0 MiB", "2.0 GiB".</summary>
    public static string Bytes(double bytes)
    {
        int unit = 0;
        while (bytes >= 1024 && unit < ByteUnits.Length - 1)
        {
            bytes /= 1024;
            unit++;
        }

        return unit == 0 ? string.Create(CultureInfo.InvariantCulture, $"{bytes:0} B") : string.Create(CultureInfo.InvariantCulture, $"{bytes:0.0} {ByteUnits[unit]}");
    }

    /// <summary>"12.3 MiB/s".</summary>
    public static string Rate(double bytesPerSecond) => Bytes(bytesPerSecond) + "/s";

    /// <summary>"45 s", "3 min 5 s", "2 h 10 min": for an ETA, whole seconds are enough.</summary>
    public static string Duration(TimeSpan time)
    {
        long seconds = (long)Math.Ceiling(Math.Max(0, time.TotalSeconds));
        return seconds < 60 ? string.Create(CultureInfo.InvariantCulture, $"{seconds} s")
            : seconds < 3600 ? string.Create(CultureInfo.InvariantCulture, $"{seconds / 60} min {seconds % 60} s")
            : string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600} h {seconds % 3600 / 60} min");
    }
}
