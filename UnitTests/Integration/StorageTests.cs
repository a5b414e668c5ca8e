using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using PollChat.Common.Framing;
using PollChat.Common.Protocol;
using PollChat.Server;
using PollChat.Tests.Support;

namespace PollChat.Tests.Integration;

/// <summary>The history file: surviving restarts and kill -9, /search, bad data directories, and a disk that stalls without stalling the chat.</summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed partial class StorageTests
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(15);
    private static readonly string[] LobbyReplay = ["[t] alice > before the restart", "[t] * alice > waves", "[t] bob > me too"];
    private static readonly string[] DevReplay = ["[t] alice > in dev"];

    [Test]
    public void History_survives_a_restart_for_the_replay_history_and_search()
    {
        string directory = TestServer.NewDataDirectory();
        try
        {
            using (var server = TestServer.Start(new ServerOptions { DataDirectory = directory }))
            {
                using var alice = RawClient.Join(server.EndPoint, "alice");
                using var bob = RawClient.Join(server.EndPoint, "bob");
                alice.Send("before the restart");
                alice.Send("/me waves");
                bob.ReadUntil(p => p.Sender == "* alice"); // So bob's line is stored after alice's, whichever socket the server reads first.
                bob.Send("me too");
                alice.ReadUntil(p => p.Text == "me too");
                alice.Send("/join #dev");
                alice.Send("in dev");
                alice.Send("/whois alice"); // Its answer comes after "in dev" was handled.
                alice.ReadNotice("alice: online");
            }

            using var restarted = TestServer.Start(new ServerOptions { DataDirectory = directory });
            using var carol = RawClient.Connect(restarted.EndPoint);
            carol.Send("carol");
            carol.ReadNotice("Welcome");
            Assert.That(carol.ReadPair(), Is.EqualTo((ServerSender.Name, "Last 3 messages in #lobby:")));
            Assert.That(ReadReplay(carol, 3), Is.EqualTo(LobbyReplay));

            carol.Send("/join #DEV");
            carol.ReadNotice("You are now in");
            carol.ReadNotice("Last 1 message");
            Assert.That(ReadReplay(carol, 1), Is.EqualTo(DevReplay));
            carol.Send("/search dev");
            Assert.That(carol.ReadNotice("1 message").Text, Is.EqualTo("1 message in #DEV matches 'dev', newest first:"));
            Assert.That(carol.ReadPair().Text, Does.Match(@"^\[\d{4}-\d\d-\d\d \d\d:\d\d\] alice: in dev$"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public void Search_finds_the_rooms_messages_with_every_word_in_any_case_newest_first_and_nothing_else()
    {
        // Searches answer within milliseconds on their own thread, so bob's dozen commands come faster than the default rate allows; the rate is not what this tests.
        using var server = TestServer.Start(new ServerOptions { MessagesPerSecond = 0 });
        using var alice = RawClient.Join(server.EndPoint, "alice");
        using var bob = RawClient.Join(server.EndPoint, "bob");
        foreach (string line in new[] { "the build is green", "lunch at noon", "Build failed again", "green tea", "un Café, ÉTIENNE?" })
        {
            alice.Send(line);
        }

        bob.Send("/join #elsewhere");
        bob.Send("the build is fine here");
        WaitUntilSearchable(bob, "fine");
        bob.Send("/leave");
        WaitUntilSearchable(bob, "tea");

        bob.Send("/search BUILD");
        Assert.That(bob.ReadNotice("2 messages").Text, Is.EqualTo("2 messages in #lobby match 'BUILD', newest first:"));
        Assert.That(bob.ReadPair().Text, Does.EndWith("] alice: Build failed again"));
        Assert.That(bob.ReadPair().Text, Does.EndWith("] alice: the build is green"));

        bob.Send("/search green build");
        Assert.That(bob.ReadNotice("1 message").Text, Is.EqualTo("1 message in #lobby matches 'green build', newest first:"));
        bob.Send("/search café étienne");
        Assert.That(bob.ReadNotice("1 message").Text, Is.EqualTo("1 message in #lobby matches 'café étienne', newest first:"));
        Assert.That(bob.ReadPair().Text, Does.EndWith("] alice: un Café, ÉTIENNE?"));
        bob.Send("/search \"build OR NEAR(x");
        Assert.That(bob.ReadNotice("No messages").Text, Is.EqualTo("No messages in #lobby match '\"build OR NEAR(x'"));
        bob.Send("/search");
        Assert.That(bob.ReadNotice("Usage").Text, Is.EqualTo("Usage: /search <words>"));
    }

    [Test]
    public void A_stalled_disk_stalls_the_history_not_the_chat()
    {
        using var server = TestServer.Start(new ServerOptions { MessagesPerSecond = 0 });
        using var alice = RawClient.Join(server.EndPoint, "alice");
        using var bob = RawClient.Join(server.EndPoint, "bob");
        alice.Send("warm up");
        WaitUntilSearchable(bob, "warm");

        // Another connection holds the write lock: the writer's next commit waits (up to SQLite's busy timeout) while we chat.
        using (var locker = new SqliteConnection($"Data Source={server.DataFile}"))
        {
            locker.Open();
            using SqliteCommand lockIt = locker.CreateCommand();
            lockIt.CommandText = "BEGIN EXCLUSIVE";
            lockIt.ExecuteNonQuery();
            var slowest = TimeSpan.Zero;
            for (int i = 0; i < 30; i++)
            {
                var watch = Stopwatch.StartNew();
                alice.Send($"while the disk is stuck {i}");
                Assert.That(bob.ReadUntil(p => p.Sender == "alice").Text, Is.EqualTo($"while the disk is stuck {i}"));
                slowest = TimeSpan.FromTicks(Math.Max(slowest.Ticks, watch.Elapsed.Ticks));
                Thread.Sleep(20); // Spread over more than a batch interval, so commits are attempted while the lock is held.
            }

            // Generous: a loop waiting on the disk would take the whole lock time (seconds), not this.
            Assert.That(slowest, Is.LessThan(TimeSpan.FromMilliseconds(500)));
            lockIt.CommandText = "ROLLBACK";
            lockIt.ExecuteNonQuery();
        }

        WaitUntilSearchable(bob, "stuck 29");
    }

    [Test]
    public void A_slow_search_delays_no_commit_stops_in_time_is_one_per_user_and_ends_at_shutdown()
    {
        string directory = TestServer.NewDataDirectory();
        using (TestServer.Start(new ServerOptions { DataDirectory = directory }))
        {
            // Makes the file.
        }

        // Long messages that every long word matches only at their very end: each substring test
        // costs milliseconds (the search's worst case), so one search of them takes seconds.
        // Enough of them that no machine reads them all within the 2 s limit: 60 were read in time on a quiet one.
        FillRoom(Path.Combine(directory, "pollchat.db"), "#lobby", 600, new string('a', 30_000) + "b");
        string slow = string.Join(' ', Enumerable.Range(0, 9).Select(i => new string('a', 90 + i) + "b")) + " nowhere";
        var server = TestServer.Start(new ServerOptions { DataDirectory = directory, MessagesPerSecond = 0, HistoryOnJoin = 0 });
        bool stopped = false;
        try
        {
            using var alice = RawClient.Join(server.EndPoint, "alice");
            using var bob = RawClient.Join(server.EndPoint, "bob");
            var searching = Stopwatch.StartNew();
            alice.Send("/search " + slow);
            Thread.Sleep(200); // The search is under way.

            // Honest messages reach the file at the writer's pace while the search runs.
            for (int i = 0; i < 5; i++)
            {
                bob.Send($"honest {i}");
                var committing = Stopwatch.StartNew();
                WaitUntilInFile(server.DataFile, $"honest {i}", TimeSpan.FromSeconds(1.5));
                TestContext.Out.WriteLine($"honest {i} committed in {committing.ElapsedMilliseconds} ms, {searching.ElapsedMilliseconds} ms into the search");
            }

            alice.Send("/search honest");
            Assert.That(alice.ReadNotice("Your last search").Text, Is.EqualTo("Your last search is still running; wait for its answer before the next"));
            Assert.That(alice.ReadNotice("No messages").Text, Is.EqualTo($"No messages in #lobby match '{slow}'"));
            Assert.That(alice.ReadNotice("The search stopped").Text, Does.Match(@"^The search stopped after 2 s: it read only the newest \d+ messages of #lobby$"));
            Assert.That(searching.Elapsed, Is.LessThan(TimeSpan.FromSeconds(3.5)), "stopped at its time limit, give or take a substring test");
            alice.Send("/search " + string.Join(' ', Enumerable.Range(0, 11).Select(i => $"w{i}")));
            Assert.That(alice.ReadNotice("Search for").Text, Is.EqualTo("Search for at most 10 words of at most 100 characters each"));
            alice.Send("/search " + new string('x', 101));
            Assert.That(alice.ReadNotice("Search for").Text, Is.EqualTo("Search for at most 10 words of at most 100 characters each"));
            alice.Send("/search honest 3");
            Assert.That(alice.ReadNotice("1 message").Text, Is.EqualTo("1 message in #lobby matches 'honest 3', newest first:"));

            // Shutdown in the middle of a search: it is cancelled, not waited for.
            alice.Send("/search " + slow);
            Thread.Sleep(300); // Long enough for the search to be under way; the shutdown must then cut it short, which is what is measured.
            alice.Dispose();
            bob.Dispose();
            var stopping = Stopwatch.StartNew();
            server.Dispose();
            stopped = true;
            TestContext.Out.WriteLine($"stopped in {stopping.ElapsedMilliseconds} ms");
            Assert.That(stopping.Elapsed, Is.LessThan(TimeSpan.FromSeconds(1.5)));
        }
        finally
        {
            if (!stopped)
            {
                server.Dispose();
            }

            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public void When_the_writer_is_behind_senders_wait_and_every_message_is_stored_with_one_warning()
    {
        const int Floods = 2;
        const int PerFlood = 250; // 60 KB each: 30 MB in all, more than the hand-off, the writer's batch and the sockets' buffers hold.
        const int Honest = 20;
        string directory = TestServer.NewDataDirectory();
        string file = Path.Combine(directory, "pollchat.db");
        using (RunningProcess server = RunningProcess.Server("--port", "0", "--host", "127.0.0.1", "--message-rate", "0", "--byte-rate", "0", "--name-timeout", "1", "--data-dir", directory))
        {
            var endPoint = new IPEndPoint(IPAddress.Loopback, server.WaitForListeningPort());
            using RawClient alice = RawClient.Join(endPoint, "alice");
            using RawClient bob = RawClient.Join(endPoint, "bob");
            RawClient[] flooders = [.. Enumerable.Range(0, Floods).Select(i => RawClient.Join(endPoint, $"flood{i}"))];
            byte[][] floods = new byte[Floods][];
            for (int i = 0; i < Floods; i++)
            {
                flooders[i].Send($"/join #flood{i}"); // Alone in a room each, as in the measurement: stored, relayed to nobody.
                flooders[i].ReadNotice("You are now in");
                floods[i] = [.. Enumerable.Range(0, PerFlood).SelectMany(n => Frame.Encode($"flood{i} {n:D4} " + new string('x', 60_000)))];
            }

            try
            {
                using (var locker = new SqliteConnection($"Data Source={file};Pooling=False"))
                {
                    // Another connection holds the write lock: the writer's commit waits while the flood comes in.
                    locker.Open();
                    using SqliteCommand lockIt = locker.CreateCommand();
                    lockIt.CommandText = "BEGIN EXCLUSIVE";
                    lockIt.ExecuteNonQuery();
                    Task[] sending = [.. Enumerable.Range(0, Floods).Select(i => Task.Run(() => flooders[i].SendBytes(floods[i])))];
                    server.WaitForLine("The history writer is behind", TimeSpan.FromSeconds(30));
                    for (int h = 0; h < Honest; h++)
                    {
                        alice.Send($"honest {h}"); // Waits in TCP, unread, with the rest.
                    }

                    using RawClient dave = RawClient.Connect(endPoint);
                    dave.Send("dave"); // Not read before the 1 s name timeout, through no fault of dave's.
                    Thread.Sleep(1500); // Time passing is the point: past dave's 1 s name timeout, with the writer still stuck.
                    server.Signal("USR1");
                    string stats = server.WaitForLine("Stats:");
                    // The server's side, not the senders': with a 32 MiB receive buffer allowed, the kernel alone can take a whole
                    // flood. Without the hold the loop reads all 30 MB in well under the 1.5 s waited.
                    Assert.That(BytesIn(stats), Is.LessThan(Floods * PerFlood * 60_000), "the flooders are held back, not read and dropped: " + stats);
                    // Nor does the loop spin while it waits: a deadline it may not act on must not set Select's timeout.
                    Assert.That(long.Parse(Regex.Match(stats, @" selects=(\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), Is.LessThan(5000), stats);
                    lockIt.CommandText = "ROLLBACK";
                    lockIt.ExecuteNonQuery();
                    Assert.That(Task.WaitAll(sending, TimeSpan.FromSeconds(60)), Is.True, "the floods are read once the writer catches up");
                    Assert.That(dave.ReadPair(TimeSpan.FromSeconds(30)).Text, Does.StartWith("Welcome, dave!"));
                }

                Assert.That(bob.ReadUntil(p => p.Text == $"honest {Honest - 1}", TimeSpan.FromSeconds(30)).Sender, Is.EqualTo("alice"));
                WaitUntilStored(file, (Floods * PerFlood) + Honest, TimeSpan.FromSeconds(60));
                server.Signal("USR1");
                Assert.That(server.WaitForLine("Stats:"), Does.Contain(" history_not_stored=0 "));
                server.Signal(RunningProcess.SigTerm);
                Assert.That(server.WaitForExit(ExitTimeout), Is.Zero, server.Transcript);
                Assert.That(Regex.Count(server.Transcript, "The history writer is behind"), Is.EqualTo(1), "one warning per stall");
                Assert.That(Regex.Count(server.Transcript, "The history writer caught up: over "), Is.EqualTo(1), "and one line when it ends, with figures");
                TestContext.Out.WriteLine(server.Transcript.Split('\n').First(l => l.Contains("caught up", StringComparison.Ordinal)));
            }
            finally
            {
                foreach (RawClient flooder in flooders)
                {
                    flooder.Dispose();
                }
            }
        }

        Directory.Delete(directory, recursive: true);
    }

    [Test]
    public void Past_history_max_bytes_a_flooders_oldest_messages_go_and_everyone_elses_stay()
    {
        const long MaxBytes = 2 * 1024 * 1024;
        using var server = TestServer.Start(new ServerOptions { HistoryMaxBytes = MaxBytes, MessagesPerSecond = 0, BytesPerSecond = 0 });
        using var alice = RawClient.Join(server.EndPoint, "alice");
        using var carol = RawClient.Join(server.EndPoint, "carol");
        using var mallory = RawClient.Join(server.EndPoint, "mallory");
        for (int i = 0; i < 5; i++)
        {
            alice.Send($"keep me {i}");
            carol.Send($"carol's long one {i} " + new string('c', 60_000)); // 300 KB: more than a tenth of the limit, yet far less than mallory.
        }

        WaitUntilInFile(server.DataFile, "keep me 4", RawClient.DefaultTimeout);
        mallory.Send("/join #flood");
        mallory.ReadNotice("You are now in");
        const int Flood = 150; // 9 MB: four and a half times the limit.
        mallory.SendBytes([.. Enumerable.Range(0, Flood).SelectMany(n => Frame.Encode($"flood {n:D3} " + new string('x', 60_000)))]);
        WaitUntilInFile(server.DataFile, $"flood {Flood - 1:D3} " + new string('x', 60_000), TimeSpan.FromSeconds(30));

        // The writer deletes right after the commit; the last flood message may be seen in between.
        DateTime deadline = DateTime.UtcNow + RawClient.DefaultTimeout;
        while (Query(server.DataFile, "SELECT coalesce(SUM(bytes), 0) FROM authors") > MaxBytes && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(50); // Polling the file, which signals nothing.
        }

        long counted = Query(server.DataFile, "SELECT SUM(length(CAST(text AS BLOB)) + 64) FROM messages");
        TestContext.Out.WriteLine($"messages count for {counted} bytes; the file is {new FileInfo(server.DataFile).Length} bytes, its pages in use {Query(server.DataFile, "SELECT (SELECT page_count FROM pragma_page_count()) - (SELECT freelist_count FROM pragma_freelist_count())") * Query(server.DataFile, "SELECT page_size FROM pragma_page_size()")}");
        Assert.That(counted, Is.LessThanOrEqualTo(MaxBytes));
        Assert.That(Query(server.DataFile, "SELECT SUM(bytes) FROM authors"), Is.EqualTo(counted), "the per-author totals add up to what is stored");
        Assert.That(Query(server.DataFile, "SELECT count(*) FROM messages WHERE author = 'alice'"), Is.EqualTo(5), "alice keeps all she said");
        Assert.That(Query(server.DataFile, "SELECT count(*) FROM messages WHERE author = 'carol'"), Is.EqualTo(5), "so does carol, over a tenth herself, while mallory holds more");
        Assert.That(Query(server.DataFile, "SELECT count(*) FROM messages WHERE text LIKE 'flood 000 %'"), Is.Zero, "mallory's oldest went");
        Assert.That(Query(server.DataFile, "SELECT count(*) FROM messages WHERE author = 'mallory'"), Is.InRange(20, Flood - 1), "and only as many as it took");
    }

    [Test]
    public void Messages_older_than_history_days_are_deleted_and_newer_ones_kept()
    {
        string directory = TestServer.NewDataDirectory();
        using (TestServer.Start(new ServerOptions { DataDirectory = directory }))
        {
            // Makes the file.
        }

        string file = Path.Combine(directory, "pollchat.db");
        FillRoom(file, "#lobby", 2500, "from ten days ago", DateTimeOffset.UtcNow.AddDays(-10), sender: "old");
        FillRoom(file, "#lobby", 3, "from six days ago", DateTimeOffset.UtcNow.AddDays(-6), sender: "recent");
        try
        {
            using var server = TestServer.Start(new ServerOptions { DataDirectory = directory, HistoryDays = 7 });
            DateTime deadline = DateTime.UtcNow + RawClient.DefaultTimeout;
            while (Query(file, "SELECT count(*) FROM messages WHERE text = 'from ten days ago'") > 0 && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(50); // Polling the file, which signals nothing.
            }

            Assert.That(Query(file, "SELECT count(*) FROM messages WHERE text = 'from ten days ago'"), Is.Zero, "2,500 messages, more than one deletion batch");
            Assert.That(Query(file, "SELECT count(*) FROM messages WHERE text = 'from six days ago'"), Is.EqualTo(3));
            Assert.That(Query(file, "SELECT count(*) FROM authors WHERE name = 'old'"), Is.Zero, "an author with nothing left is forgotten");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public void After_kill_9_the_file_is_intact_the_server_starts_and_keeps_a_prefix_of_what_was_said()
    {
        string directory = TestServer.NewDataDirectory();
        const int Sent = 300;
        using (RunningProcess server = RunningProcess.Server("--port", "0", "--host", "127.0.0.1", "--message-rate", "0", "--data-dir", directory))
        {
            int port = server.WaitForListeningPort();
            using RawClient alice = RawClient.Join(new IPEndPoint(IPAddress.Loopback, port), "alice");
            using RawClient bob = RawClient.Join(new IPEndPoint(IPAddress.Loopback, port), "bob");
            alice.Send("committed before the crash");
            WaitUntilSearchable(bob, "committed crash");
            for (int i = 0; i < Sent; i++)
            {
                alice.Send($"line {i:D3}");
            }

            bob.ReadUntil(p => p.Text == $"line {Sent / 2:D3}");
            server.Kill(); // SIGKILL mid-stream: no shutdown, no last commit.
        }

        using (var check = new SqliteConnection($"Data Source={Path.Combine(directory, "pollchat.db")}"))
        {
            check.Open();
            using SqliteCommand integrity = check.CreateCommand();
            integrity.CommandText = "PRAGMA integrity_check";
            Assert.That(integrity.ExecuteScalar(), Is.EqualTo("ok"));
        }

        using (RunningProcess restarted = RunningProcess.Server("--port", "0", "--host", "127.0.0.1", "--history", "100", "--data-dir", directory))
        {
            int port = restarted.WaitForListeningPort();
            using RawClient carol = RawClient.Connect(new IPEndPoint(IPAddress.Loopback, port));
            carol.Send("carol");
            carol.ReadNotice("Welcome");
            int replayed = int.Parse(ReplayCount().Match(carol.ReadNotice("Last").Text).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            string[] texts = [.. Enumerable.Range(0, replayed).Select(_ => carol.ReadPair().Text)];

            // What survived is what was said, in order and without a gap: only the last messages may be lost, never one in the middle.
            string[] said = ["committed before the crash", .. Enumerable.Range(0, Sent).Select(i => $"line {i:D3}")];
            int start = Array.IndexOf(said, texts.FirstOrDefault());
            Assert.That(start, Is.Not.Negative, "the replay starts with something that was said");
            Assert.That(texts, Is.EqualTo(said.Skip(start).Take(texts.Length)));
            Assert.That(start == 0 || texts.Length == 100, Is.True, "fewer than 100 kept means the replay reaches back to the first message");
            restarted.Signal(RunningProcess.SigTerm);
            Assert.That(restarted.WaitForExit(ExitTimeout), Is.Zero, restarted.Transcript);
        }

        Directory.Delete(directory, recursive: true);
    }

    [Test]
    public void A_damaged_history_file_stops_the_start_with_one_clear_line_and_exit_4()
    {
        string directory = TestServer.NewDataDirectory();
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "pollchat.db"), "this is not a database, it is a shopping list\n");

        using RunningProcess server = RunningProcess.Server("--port", "0", "--host", "127.0.0.1", "--data-dir", directory);

        Assert.That(server.WaitForExit(ExitTimeout), Is.EqualTo(4));
        Assert.That(server.Transcript, Does.Contain($"PollServer: cannot use the data directory {directory}: pollchat.db is damaged or not a PollChat database"));
        Assert.That(server.Transcript, Does.Not.Contain("Listening"));
        Directory.Delete(directory, recursive: true);
    }

    [Test]
    public void A_data_directory_that_cannot_be_created_stops_the_start_with_exit_4()
    {
        string file = Path.Combine(Path.GetTempPath(), "pollchat-test-data", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, "a file where a directory is wanted");

        using RunningProcess server = RunningProcess.Server("--port", "0", "--data-dir", Path.Combine(file, "data"));

        Assert.That(server.WaitForExit(ExitTimeout), Is.EqualTo(4));
        Assert.That(server.Transcript, Does.Contain($"PollServer: cannot use the data directory {Path.Combine(file, "data")}: it cannot be created"));
        File.Delete(file);
    }

    [Test]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void A_read_only_data_directory_stops_the_start_with_exit_4()
    {
        string directory = TestServer.NewDataDirectory();
        using (var first = TestServer.Start(new ServerOptions { DataDirectory = directory }))
        {
            // A file made by an earlier run, as an operator would find it.
        }

        // Root writes anywhere, so when the tests run as root the server runs as nobody; otherwise the directory loses its write bit.
        bool asRoot = Environment.UserName == "root";
        if (!asRoot)
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }
        else
        {
            File.SetUnixFileMode(Path.Combine(directory, "pollchat.db"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }

        try
        {
            using RunningProcess server = asRoot
                ? RunningProcess.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", RunningProcess.ProgramPath("PollServer"), "--port", "0", "--host", "127.0.0.1", "--data-dir", directory)
                : RunningProcess.Server("--port", "0", "--host", "127.0.0.1", "--data-dir", directory);

            Assert.That(server.WaitForExit(ExitTimeout), Is.EqualTo(4), server.Transcript);
            Assert.That(server.Transcript, Does.Contain($"PollServer: cannot use the data directory {directory}: pollchat.db cannot be written"));
        }
        finally
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public void A_file_from_a_newer_server_is_refused_not_damaged()
    {
        string directory = TestServer.NewDataDirectory();
        using (TestServer.Start(new ServerOptions { DataDirectory = directory }))
        {
        }

        using (var newer = new SqliteConnection($"Data Source={Path.Combine(directory, "pollchat.db")};Pooling=False"))
        {
            newer.Open();
            using SqliteCommand setVersion = newer.CreateCommand();
            setVersion.CommandText = "PRAGMA user_version = 99";
            setVersion.ExecuteNonQuery();
        }

        using RunningProcess server = RunningProcess.Server("--port", "0", "--data-dir", directory);

        Assert.That(server.WaitForExit(ExitTimeout), Is.EqualTo(4));
        Assert.That(server.Transcript, Does.Contain("pollchat.db has schema version 99, newer than this PollServer's 4; use the newer PollServer"));
        Directory.Delete(directory, recursive: true);
    }

    [Test]
    public void A_file_from_an_older_server_is_migrated_and_keeps_its_messages()
    {
        string directory = TestServer.NewDataDirectory();
        Directory.CreateDirectory(directory);
        string file = Path.Combine(directory, "pollchat.db");
        using (var old = new SqliteConnection($"Data Source={file};Pooling=False"))
        {
            // Schema version 1, as the first PollServer with a history file wrote it.
            old.Open();
            using SqliteCommand create = old.CreateCommand();
            create.CommandText = """
                CREATE TABLE messages(id INTEGER PRIMARY KEY, room TEXT NOT NULL COLLATE NOCASE, sender TEXT NOT NULL, text TEXT NOT NULL, sent_at INTEGER NOT NULL);
                CREATE INDEX messages_by_room ON messages(room, id);
                INSERT INTO messages(room, sender, text, sent_at) VALUES ('#lobby', 'alice', 'from an older server', 1700000000000);
                PRAGMA user_version = 1;
                """;
            create.ExecuteNonQuery();
        }

        try
        {
            using (var server = TestServer.Start(new ServerOptions { DataDirectory = directory }))
            {
                using var bob = RawClient.Connect(server.EndPoint);
                bob.Send("bob");
                bob.ReadNotice("Welcome");
                bob.ReadNotice("Last 1 message");
                Assert.That(bob.ReadPair(), Is.EqualTo(("[" + DateTimeOffset.FromUnixTimeMilliseconds(1700000000000).LocalDateTime.ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture) + "] alice", "from an older server")));
                bob.Send("/register a password");
                Assert.That(bob.ReadNotice("Registered").Text, Does.StartWith("Registered bob"), "the accounts table came with the migration");
            }

            using var check = new SqliteConnection($"Data Source={file};Pooling=False");
            check.Open();
            using SqliteCommand version = check.CreateCommand();
            version.CommandText = "PRAGMA user_version";
            Assert.That(version.ExecuteScalar(), Is.EqualTo(4));
            version.CommandText = "SELECT author || ' ' || (SELECT bytes FROM authors WHERE name = 'alice') FROM messages";
            Assert.That(version.ExecuteScalar(), Is.EqualTo($"alice {"from an older server".Length + 64}"), "each message's author, and what each author's messages take, came with the migration");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Searches the client's room until the words are found: the proof they were committed, since searches read the file.</summary>
    private static void WaitUntilSearchable(RawClient client, string words)
    {
        DateTime deadline = DateTime.UtcNow + RawClient.DefaultTimeout;
        while (DateTime.UtcNow < deadline)
        {
            client.Send($"/search {words}");
            string answer = client.ReadUntil(p => p.Sender == ServerSender.Name && (p.Text.StartsWith("No messages", StringComparison.Ordinal) || p.Text.Contains(" match '", StringComparison.Ordinal) || p.Text.Contains(" matches '", StringComparison.Ordinal))).Text;
            if (!answer.StartsWith("No messages", StringComparison.Ordinal))
            {
                return;
            }

            Thread.Sleep(50); // Not committed yet: the writer commits every 100 ms.
        }

        throw new TimeoutException($"'{words}' was never found in the stored history");
    }

    /// <summary>Stores messages straight into a stopped server's file, as if said long ago (with what the author's messages take, as the server counts it): quicker than sending them.</summary>
    private static void FillRoom(string file, string room, int count, string text, DateTimeOffset? sentAt = null, string sender = "filler")
    {
        using var connection = new SqliteConnection($"Data Source={file};Pooling=False");
        connection.Open();
        using SqliteTransaction transaction = connection.BeginTransaction();
        using SqliteCommand insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO messages(room, sender, author, text, sent_at) VALUES ($room, $sender, $sender, $text, $at)";
        insert.Parameters.AddWithValue("$room", room);
        insert.Parameters.AddWithValue("$sender", sender);
        insert.Parameters.AddWithValue("$text", text);
        insert.Parameters.AddWithValue("$at", (sentAt ?? DateTimeOffset.UtcNow).ToUnixTimeMilliseconds());
        for (int i = 0; i < count; i++)
        {
            insert.ExecuteNonQuery();
        }

        insert.CommandText = "INSERT INTO authors(name, bytes) VALUES ($sender, $bytes) ON CONFLICT(name) DO UPDATE SET bytes = bytes + excluded.bytes";
        insert.Parameters.AddWithValue("$bytes", count * (System.Text.Encoding.UTF8.GetByteCount(text) + 64));
        insert.ExecuteNonQuery();
        transaction.Commit();
    }

    /// <summary>One number from the file, read with a connection of the test's own.</summary>
    private static long Query(string file, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={file};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>Polls the file itself (a connection of the test's own) until a message with this text is committed.</summary>
    private static void WaitUntilInFile(string file, string text, TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        using var connection = new SqliteConnection($"Data Source={file};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using SqliteCommand count = connection.CreateCommand();
        count.CommandText = "SELECT count(*) FROM messages WHERE text = $text";
        count.Parameters.AddWithValue("$text", text);
        while ((long)count.ExecuteScalar()! == 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"'{text[..Math.Min(text.Length, 40)]}' was not in the history file within {timeout.TotalSeconds} s");
            }

            Thread.Sleep(20); // Polling the file, which signals nothing.
        }
    }

    /// <summary>Polls the file until it holds this many messages in all.</summary>
    private static void WaitUntilStored(string file, long messages, TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        using var connection = new SqliteConnection($"Data Source={file};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using SqliteCommand count = connection.CreateCommand();
        count.CommandText = "SELECT count(*) FROM messages";
        long stored;
        while ((stored = (long)count.ExecuteScalar()!) < messages)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{stored} of {messages} messages in the history file after {timeout.TotalSeconds} s");
            }

            Thread.Sleep(50); // Polling the file, which signals nothing.
        }

        Assert.That(stored, Is.EqualTo(messages));
    }

    private static string[] ReadReplay(RawClient client, int count) =>
        [.. Enumerable.Range(0, count).Select(_ => client.ReadPair()).Select(p => Stamp().Replace(p.Sender, "[t] ") + " > " + p.Text)];

    private static long BytesIn(string statsLine) =>
        long.Parse(Regex.Match(statsLine, @" bytes_in=(\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^\[\d\d:\d\d\] ")]
    private static partial Regex Stamp();

    [GeneratedRegex(@"^Last (\d+) message")]
    private static partial Regex ReplayCount();
}
