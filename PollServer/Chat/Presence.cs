using NLog;
using PollChat.Common.Protocol;
using PollChat.Server.Loop;

namespace PollChat.Server.Chat;

/// <summary>
/// Who came and went, told to others: joins and leaves one by one while they are few, counted
/// and summed up once per sweep in a storm, and rich clients' lists of who is online kept right
/// or told plainly that they are no longer followed. It decides whether and how to tell; the
/// <see cref="Outbox"/> sends.
/// </summary>
internal sealed class Presence(ServerOptions options, Users users, Outbox outbox)
{
    /// <summary>
    /// Joins and leaves announced one by one, server-wide: a class of a hundred arriving at nine
    /// o'clock is announced in full, while a connect/close storm cannot make every idle user
    /// download two notices per bot. Past it they are counted and told as one line per sweep.
    /// </summary>
    private const double ChangesPerSecond = 20;

    private const int ChangesBurst = 100;

    private static readonly Logger Log = LogManager.GetCurrentClassLogger();

    private RateLimiter _rate;
    private bool _busy;
    private int _unannouncedArrivals;
    private int _unannouncedDepartures;

    /// <summary>Whether rich clients were told changes stopped (tracking: false) since changes were last sent; reset once they are sent again.</summary>
    private bool _toldUntracked;

    /// <summary>Whether list changes are announced: past the announce limit, or in a storm, they are not, for prose and events alike.</summary>
    public bool ChangesTracked => users.OnlineCount <= options.AnnounceLimit && !_busy;

    /// <summary>
    /// Whether a join or leave is announced one by one. Past <see cref="ChangesPerSecond"/>
    /// the server is busy: changes are counted for <see cref="Summarise"/>, and rich clients
    /// are told once that the list is no longer followed (they ask with /users).
    /// </summary>
    public bool Announced(bool arrival, long now)
    {
        bool withinRate = _rate.HasToken(ChangesPerSecond, ChangesBurst, now);
        _rate.Take(ChangesPerSecond);
        if (withinRate && !_busy)
        {
            return true;
        }

        if (!_busy)
        {
            _busy = true;
            Log.Info("Over {Rate} joins and leaves a second: counting them instead of announcing each, until a quiet {Seconds} s", ChangesPerSecond, ChatServer.BufferSweepIntervalMilliseconds / 1000);
        }

        if (arrival)
        {
            _unannouncedArrivals++;
        }
        else
        {
            _unannouncedDepartures++;
        }

        return false;
    }

    /// <summary>Once per sweep while busy: one line for the joins and leaves not announced; a sweep without any ends the busy spell.</summary>
    public void Summarise(long now)
    {
        if (!_busy)
        {
            return;
        }

        if (_unannouncedArrivals + _unannouncedDepartures == 0)
        {
            _busy = false;
            Log.Info("Joins and leaves are announced one by one again");
            return;
        }

        outbox.AnnounceToEveryone(Notices.PresenceSummary(_unannouncedArrivals, _unannouncedDepartures, ChatServer.BufferSweepIntervalMilliseconds / 1000, users.OnlineCount), richEvent: null, now);
        _unannouncedArrivals = _unannouncedDepartures = 0;
    }

    /// <summary>
    /// Someone came or went: rich clients anywhere on the server update their list of who is
    /// online. While changes are tracked only; the join that passes the announce limit tells them
    /// the changes stop, so no client trusts a list that silently went stale.
    /// </summary>
    public void TellOnlineChanged(string type, string name, string? reason, ChatUser? except, long now)
    {
        RichEvent richEvent;
        if (ChangesTracked)
        {
            _toldUntracked = false;
            richEvent = new RichEvent { Type = type, Name = name, Reason = reason, Count = users.OnlineCount };
        }
        else if (!_toldUntracked)
        {
            _toldUntracked = true; // Past the announce limit, or joins and leaves too fast to follow one by one.
            richEvent = new RichEvent { Type = RichEventTypes.Tracking, Tracked = false };
        }
        else
        {
            return;
        }

        outbox.ToRichUsers(richEvent, except, now);
    }

    /// <summary>The rich client's list of its room and of who is online.</summary>
    public RichEvent UsersSnapshot(ChatUser user) => new()
    {
        Type = RichEventTypes.Users,
        Room = user.Room!.Name,
        Members = Rooms.MemberNames(user.Room),
        Online = users.SortedNames(),
        Tracked = ChangesTracked,
    };
}
