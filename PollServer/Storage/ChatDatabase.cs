using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;

namespace PollChat.Server.Storage;

/// <summary>
/// The SQLite file under the data directory: its schema, versioned and migrated at open, and
/// the few statements the server needs. It knows nothing of threads: <see cref="HistoryStore"/>
/// decides which thread uses it, and the loop never does.
/// </summary>
internal sealed class ChatDatabase : IDisposable
{
    /// <summary>The file's name inside the data directory.</summary>
    public const string FileName = "pollchat.db";

    /// <summary>The settings key of the message of the day.</summary>
    public const string MessageOfTheDayKey = "motd";

    // Each entry takes the schema from its index to the next version; a file records its version in PRAGMA user_version.
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE messages(
            id INTEGER PRIMARY KEY,
            room TEXT NOT NULL COLLATE NOCASE,
            sender TEXT NOT NULL,
            text TEXT NOT NULL,
            sent_at INTEGER NOT NULL);
        CREATE INDEX messages_by_room ON messages(room, id);
        """,
        """
        CREATE TABLE accounts(
            name TEXT PRIMARY KEY COLLATE NOCASE,
            salt BLOB NOT NULL,
            hash BLOB NOT NULL,
            iterations INTEGER NOT NULL,
            admin INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL);
        """,
        """
        CREATE TABLE bans(
            target TEXT PRIMARY KEY COLLATE NOCASE,
            until INTEGER,
            banned_by TEXT NOT NULL,
            created_at INTEGER NOT NULL);
        CREATE TABLE settings(
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL);
        """,
        // Who said each message (an action's "* alice" is alice's), and what each author's messages take: the retention's per-user budget.
        $"""
        ALTER TABLE messages ADD COLUMN author TEXT NOT NULL DEFAULT '' COLLATE NOCASE;
        UPDATE messages SET author = CASE WHEN substr(sender, 1, 2) = '* ' THEN substr(sender, 3) ELSE sender END;
        CREATE INDEX messages_by_author ON messages(author, id);
        CREATE TABLE authors(
            name TEXT PRIMARY KEY COLLATE NOCASE,
            bytes INTEGER NOT NULL);
        INSERT INTO authors(name, bytes) SELECT author, SUM({SizeSql}) FROM messages GROUP BY author;
        """,
    ];

    /// <summary>
    /// What a message counts for against the retention's byte limit, besides its text: its room,
    /// sender and time, the row's header, and its entries in the two indexes, for short names.
    /// </summary>
    public const int RowOverheadBytes = 64;

    /// <summary>A message's size for the retention, in SQL: the same sum as <see cref="SizeOf"/>.</summary>
    private const string SizeSql = "length(CAST(text AS BLOB)) + 64";

    /// <summary>At most this many rows are deleted per statement: a few milliseconds, so commits never wait long behind a deletion.</summary>
    public const int DeleteBatchRows = 1000;

    private readonly SqliteConnection _connection;

    // Reused by Insert and DeleteOldest (writer thread): each author's bytes in the batch at hand. Ordinal: SQLite's NOCASE merges what differs in ASCII case only.
    private readonly Dictionary<string, long> _bytesByAuthor = new(StringComparer.Ordinal);

    private ChatDatabase(SqliteConnection connection) => _connection = connection;

    /// <summary>The schema version this code reads and writes.</summary>
    public static int SchemaVersion => Migrations.Length;

    /// <summary>
    /// Opens (creating it if needed) the database in <paramref name="directory"/>, which is created
    /// too, and migrates it to <see cref="SchemaVersion"/>.
    /// </summary>
    /// <exception cref="DataDirectoryException">The directory or file cannot be used, with a sentence saying why.</exception>
    public static ChatDatabase Open(string directory)
    {
        string path = Path.Combine(directory, FileName);
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataDirectoryException(directory, $"it cannot be created ({e.Message})");
        }

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString());
        try
        {
            connection.Open();
            Execute(connection, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
            // Opening succeeds on a read-only file; taking the write lock shows whether we can write.
            Execute(connection, "BEGIN IMMEDIATE; ROLLBACK;");
            Migrate(connection, directory);
            return new ChatDatabase(connection);
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new DataDirectoryException(directory, e.SqliteErrorCode switch
            {
                SqliteErrorCodes.NotADatabase or SqliteErrorCodes.Corrupt => $"{FileName} is damaged or not a PollChat database (SQLite: {e.Message.TrimEnd('.')}); move it away to start with an empty history",
                SqliteErrorCodes.ReadOnly or SqliteErrorCodes.CantOpen or SqliteErrorCodes.Permission => $"{FileName} cannot be written (SQLite: {e.Message.TrimEnd('.')}); check the directory's owner and permissions",
                _ => $"SQLite error {e.SqliteErrorCode}: {e.Message}",
            });
        }
        catch (DataDirectoryException)
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A second connection to the file <see cref="Open"/> made, read only, for searches: in WAL
    /// mode it reads a snapshot while the writer's connection commits, so neither waits for the other.
    /// </summary>
    /// <exception cref="SqliteException">The file cannot be opened.</exception>
    public static ChatDatabase OpenForReading(string directory)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(directory, FileName), Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        try
        {
            connection.Open();
            return new ChatDatabase(connection);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Makes the statement running on this connection, if any, fail with SQLITE_INTERRUPT.
    /// Safe from any thread while the connection is open: Microsoft.Data.Sqlite's Cancel does
    /// nothing, so this is SQLite's own sqlite3_interrupt.
    /// </summary>
    public void Interrupt() => SQLitePCL.raw.sqlite3_interrupt(_connection.Handle);

    /// <summary>
    /// Stores messages in one transaction: one commit, one sync, for the whole batch, with what
    /// each author's messages take. Returns the bytes they count for (see <see cref="SizeOf"/>).
    /// </summary>
    public long Insert(IReadOnlyList<StoredMessage> messages)
    {
        using SqliteTransaction transaction = _connection.BeginTransaction();
        using SqliteCommand insert = _connection.CreateCommand();
        insert.CommandText = "INSERT INTO messages(room, sender, author, text, sent_at) VALUES ($room, $sender, $author, $text, $sent_at)";
        SqliteParameter room = insert.Parameters.Add("$room", SqliteType.Text);
        SqliteParameter sender = insert.Parameters.Add("$sender", SqliteType.Text);
        SqliteParameter author = insert.Parameters.Add("$author", SqliteType.Text);
        SqliteParameter text = insert.Parameters.Add("$text", SqliteType.Text);
        SqliteParameter sentAt = insert.Parameters.Add("$sent_at", SqliteType.Integer);
        _bytesByAuthor.Clear();
        long added = 0;
        foreach (StoredMessage message in messages)
        {
            string who = AuthorOf(message.Sender);
            long size = SizeOf(message.Text);
            room.Value = message.Room;
            sender.Value = message.Sender;
            author.Value = who;
            text.Value = message.Text;
            sentAt.Value = new DateTimeOffset(message.UtcTime).ToUnixTimeMilliseconds();
            insert.ExecuteNonQuery();
            _bytesByAuthor[who] = _bytesByAuthor.GetValueOrDefault(who) + size;
            added += size;
        }

        AddToAuthors(transaction, 1);
        transaction.Commit();
        return added;
    }

    /// <summary>What one message counts for against the retention's byte limit: its text in UTF-8 and <see cref="RowOverheadBytes"/>.</summary>
    public static long SizeOf(string text) => Encoding.UTF8.GetByteCount(text) + RowOverheadBytes;

    /// <summary>Whose message it is: "* alice" (an action) is alice's.</summary>
    public static string AuthorOf(string sender) => sender.StartsWith("* ", StringComparison.Ordinal) ? sender[2..] : sender;

    /// <summary>What all stored messages count for against the retention's byte limit.</summary>
    public long TotalBytes() => Scalar(_connection, "SELECT coalesce(SUM(bytes), 0) FROM authors");

    /// <summary>The author whose messages take the most, and how much; null when there are none.</summary>
    public (string Name, long Bytes)? LargestAuthor()
    {
        using SqliteCommand largest = _connection.CreateCommand();
        largest.CommandText = "SELECT name, bytes FROM authors ORDER BY bytes DESC LIMIT 1";
        using SqliteDataReader reader = largest.ExecuteReader();
        return reader.Read() ? (reader.GetString(0), reader.GetInt64(1)) : null;
    }

    /// <summary>
    /// Deletes, in one transaction, the oldest messages (of <paramref name="author"/> only, if
    /// given), no more than <see cref="DeleteBatchRows"/> and no more than it takes to free
    /// <paramref name="bytes"/>, and of those only the ones sent before
    /// <paramref name="sentBeforeUnixMs"/>, if given. Returns how many, and the bytes they counted for.
    /// </summary>
    public (int Rows, long Bytes) DeleteOldest(long bytes, string? author = null, long? sentBeforeUnixMs = null)
    {
        using SqliteTransaction transaction = _connection.BeginTransaction();
        using SqliteCommand delete = _connection.CreateCommand();
        delete.Transaction = transaction;
        delete.CommandText = $"""
            WITH oldest AS (SELECT id, {SizeSql} AS size FROM messages {(author is null ? "" : "WHERE author = $author")} ORDER BY id LIMIT $rows),
                 counted AS (SELECT id, SUM(size) OVER (ORDER BY id) - size AS before FROM oldest)
            DELETE FROM messages WHERE id IN (SELECT id FROM counted WHERE before < $bytes){(sentBeforeUnixMs is null ? "" : " AND sent_at < $before")}
            RETURNING author, {SizeSql}
            """;
        delete.Parameters.AddWithValue("$rows", DeleteBatchRows);
        delete.Parameters.AddWithValue("$bytes", bytes);
        if (author is not null)
        {
            delete.Parameters.AddWithValue("$author", author);
        }

        if (sentBeforeUnixMs is { } before)
        {
            delete.Parameters.AddWithValue("$before", before);
        }

        _bytesByAuthor.Clear();
        int rows = 0;
        long freed = 0;
        using (SqliteDataReader reader = delete.ExecuteReader())
        {
            while (reader.Read())
            {
                string who = reader.GetString(0);
                long size = reader.GetInt64(1);
                _bytesByAuthor[who] = _bytesByAuthor.GetValueOrDefault(who) + size;
                rows++;
                freed += size;
            }
        }

        AddToAuthors(transaction, -1);
        transaction.Commit();
        return (rows, freed);
    }

    /// <summary>Adds (sign 1) or takes away (sign -1) what <see cref="_bytesByAuthor"/> holds to the authors' totals; an author left with nothing is removed.</summary>
    private void AddToAuthors(SqliteTransaction transaction, int sign)
    {
        if (_bytesByAuthor.Count == 0)
        {
            return;
        }

        using SqliteCommand add = _connection.CreateCommand();
        add.Transaction = transaction;
        add.CommandText = "INSERT INTO authors(name, bytes) VALUES ($name, $bytes) ON CONFLICT(name) DO UPDATE SET bytes = bytes + excluded.bytes";
        SqliteParameter name = add.Parameters.Add("$name", SqliteType.Text);
        SqliteParameter bytes = add.Parameters.Add("$bytes", SqliteType.Integer);
        foreach ((string who, long size) in _bytesByAuthor)
        {
            name.Value = who;
            bytes.Value = sign * size;
            add.ExecuteNonQuery();
        }

        if (sign < 0)
        {
            Execute(_connection, "DELETE FROM authors WHERE bytes <= 0", transaction);
        }
    }

    /// <summary>The last <paramref name="perRoom"/> messages of each of the <paramref name="rooms"/> rooms that spoke last, oldest first within a room.</summary>
    public List<StoredMessage> LoadRecent(int rooms, int perRoom)
    {
        var roomNames = new List<string>();
        using (SqliteCommand latest = _connection.CreateCommand())
        {
            latest.CommandText = "SELECT room, MAX(id) AS last FROM messages GROUP BY room ORDER BY last DESC LIMIT $rooms";
            latest.Parameters.AddWithValue("$rooms", rooms);
            using SqliteDataReader reader = latest.ExecuteReader();
            while (reader.Read())
            {
                roomNames.Add(reader.GetString(0));
            }
        }

        var messages = new List<StoredMessage>();
        using SqliteCommand recent = _connection.CreateCommand();
        recent.CommandText = "SELECT room, sender, text, sent_at FROM (SELECT * FROM messages WHERE room = $room ORDER BY id DESC LIMIT $count) ORDER BY id";
        SqliteParameter room = recent.Parameters.Add("$room", SqliteType.Text);
        recent.Parameters.AddWithValue("$count", perRoom);
        foreach (string name in roomNames)
        {
            room.Value = name;
            using SqliteDataReader reader = recent.ExecuteReader();
            while (reader.Read())
            {
                messages.Add(Read(reader));
            }
        }

        return messages;
    }

    /// <summary>
    /// Up to <paramref name="limit"/> messages of a room that contain every word, newest first,
    /// among its <paramref name="scanned"/> latest. Matching is done here, not by SQLite: any case
    /// in every script (SQLite's own LIKE folds ASCII only), and nothing to index on every insert
    /// (a full-text index tripled the cost of storing a message). Accents count: the server runs
    /// without ICU (invariant globalization), which is what accent folding would need.
    /// The clock and <paramref name="cancel"/> are checked before each word of each message, so a
    /// search ends at most one substring test (milliseconds, for words of bounded length) after
    /// <paramref name="deadline"/>, with what it found so far.
    /// </summary>
    /// <exception cref="SqliteException">The read failed, or was interrupted (<see cref="Interrupt"/>).</exception>
    public SearchResult Search(string room, IReadOnlyList<string> words, int limit, int scanned, long deadline, CancellationToken cancel)
    {
        using SqliteCommand latest = _connection.CreateCommand();
        latest.CommandText = "SELECT room, sender, text, sent_at FROM messages WHERE room = $room ORDER BY id DESC LIMIT $scanned";
        latest.Parameters.AddWithValue("$room", room);
        latest.Parameters.AddWithValue("$scanned", scanned);
        var found = new List<StoredMessage>();
        int read = 0;
        using SqliteDataReader reader = latest.ExecuteReader();
        while (found.Count < limit && reader.Read())
        {
            string text = reader.GetString(2);
            bool all = true;
            foreach (string word in words)
            {
                if (Environment.TickCount64 >= deadline || cancel.IsCancellationRequested)
                {
                    return new SearchResult(found, read, Stopped: true);
                }

                if (!text.Contains(word, StringComparison.OrdinalIgnoreCase))
                {
                    all = false;
                    break;
                }
            }

            read++;
            if (all)
            {
                found.Add(Read(reader));
            }
        }

        return new SearchResult(found, read, Stopped: false);
    }

    /// <summary>Every account, for the server's in-memory copy at start.</summary>
    public List<Account> LoadAccounts()
    {
        using SqliteCommand all = _connection.CreateCommand();
        all.CommandText = "SELECT name, salt, hash, iterations, admin FROM accounts";
        var accounts = new List<Account>();
        using SqliteDataReader reader = all.ExecuteReader();
        while (reader.Read())
        {
            accounts.Add(new Account(reader.GetString(0), new Accounts.PasswordHash((byte[])reader[1], (byte[])reader[2], reader.GetInt32(3)), reader.GetInt64(4) != 0));
        }

        return accounts;
    }

    /// <summary>Creates or replaces an account.</summary>
    public void SaveAccount(Account account)
    {
        using SqliteCommand save = _connection.CreateCommand();
        save.CommandText = """
            INSERT INTO accounts(name, salt, hash, iterations, admin, created_at) VALUES ($name, $salt, $hash, $iterations, $admin, $now)
            ON CONFLICT(name) DO UPDATE SET name = excluded.name, salt = excluded.salt, hash = excluded.hash, iterations = excluded.iterations, admin = excluded.admin
            """;
        save.Parameters.AddWithValue("$name", account.Name);
        save.Parameters.AddWithValue("$salt", account.Password.Salt);
        save.Parameters.AddWithValue("$hash", account.Password.Hash);
        save.Parameters.AddWithValue("$iterations", account.Password.Iterations);
        save.Parameters.AddWithValue("$admin", account.Admin ? 1 : 0);
        save.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        save.ExecuteNonQuery();
    }

    public void DeleteAccount(string name)
    {
        using SqliteCommand delete = _connection.CreateCommand();
        delete.CommandText = "DELETE FROM accounts WHERE name = $name";
        delete.Parameters.AddWithValue("$name", name);
        delete.ExecuteNonQuery();
    }

    /// <summary>Every ban, expired ones included (the server skips those); until is null for a permanent ban.</summary>
    public List<Ban> LoadBans()
    {
        using SqliteCommand all = _connection.CreateCommand();
        all.CommandText = "SELECT target, until, banned_by FROM bans";
        var bans = new List<Ban>();
        using SqliteDataReader reader = all.ExecuteReader();
        while (reader.Read())
        {
            DateTime? until = reader.IsDBNull(1) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)).UtcDateTime;
            bans.Add(new Ban(reader.GetString(0), until, reader.GetString(2)));
        }

        return bans;
    }

    public void SaveBan(Ban ban)
    {
        using SqliteCommand save = _connection.CreateCommand();
        save.CommandText = "INSERT OR REPLACE INTO bans(target, until, banned_by, created_at) VALUES ($target, $until, $by, $now)";
        save.Parameters.AddWithValue("$target", ban.Target);
        save.Parameters.AddWithValue("$until", ban.UtcUntil is { } until ? new DateTimeOffset(until).ToUnixTimeMilliseconds() : DBNull.Value);
        save.Parameters.AddWithValue("$by", ban.By);
        save.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        save.ExecuteNonQuery();
    }

    public void DeleteBan(string target)
    {
        using SqliteCommand delete = _connection.CreateCommand();
        delete.CommandText = "DELETE FROM bans WHERE target = $target";
        delete.Parameters.AddWithValue("$target", target);
        delete.ExecuteNonQuery();
    }

    public string? GetSetting(string key)
    {
        using SqliteCommand get = _connection.CreateCommand();
        get.CommandText = "SELECT value FROM settings WHERE key = $key";
        get.Parameters.AddWithValue("$key", key);
        return get.ExecuteScalar() as string;
    }

    /// <summary>Sets a setting, or removes it when <paramref name="value"/> is null.</summary>
    public void SetSetting(string key, string? value)
    {
        using SqliteCommand set = _connection.CreateCommand();
        set.CommandText = value is null ? "DELETE FROM settings WHERE key = $key" : "INSERT OR REPLACE INTO settings(key, value) VALUES ($key, $value)";
        set.Parameters.AddWithValue("$key", key);
        if (value is not null)
        {
            set.Parameters.AddWithValue("$value", value);
        }

        set.ExecuteNonQuery();
    }

    public void Dispose() => _connection.Dispose();

    private static void Migrate(SqliteConnection connection, string directory)
    {
        long version = Scalar(connection, "PRAGMA user_version");
        if (version > Migrations.Length)
        {
            throw new DataDirectoryException(directory, $"{FileName} has schema version {version}, newer than this PollServer's {Migrations.Length}; use the newer PollServer");
        }

        for (long next = version; next < Migrations.Length; next++)
        {
            using SqliteTransaction transaction = connection.BeginTransaction();
            Execute(connection, Migrations[next] + $"; PRAGMA user_version = {next + 1};", transaction);
            transaction.Commit();
        }
    }

    private static StoredMessage Read(SqliteDataReader reader) =>
        new(reader.GetString(0), reader.GetString(1), reader.GetString(2), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)).UtcDateTime);

    private static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static long Scalar(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>The SQLite result codes the server explains to a person (sqlite3.h).</summary>
    private static class SqliteErrorCodes
    {
        public const int Permission = 3;
        public const int ReadOnly = 8;
        public const int Corrupt = 11;
        public const int CantOpen = 14;
        public const int NotADatabase = 26;
    }
}

/// <summary>What a search found, newest first; how many messages it read; whether it ran out of time before reading all it was allowed to; whether it failed (logged).</summary>
internal sealed record SearchResult(List<StoredMessage> Found, int Read, bool Stopped, bool Failed = false);

/// <summary>A registered name: its password hash, and whether it may use the operator's commands.</summary>
internal sealed record Account(string Name, Accounts.PasswordHash Password, bool Admin);

/// <summary>A ban of a name or an address (<see cref="Target"/>), until a time or (null) for good, and who set it.</summary>
internal sealed record Ban(string Target, DateTime? UtcUntil, string By)
{
    public bool IsOver(DateTime utcNow) => UtcUntil is { } until && until <= utcNow;
}

/// <summary>The data directory cannot be used; the message is one sentence for the operator.</summary>
public sealed class DataDirectoryException(string directory, string why)
    : Exception($"cannot use the data directory {directory}: {why}")
{
    public string Directory { get; } = directory;
}
