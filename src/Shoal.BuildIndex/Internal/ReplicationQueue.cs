using Microsoft.Data.Sqlite;
using Shoal.Core;
using Shoal.Hosting;

namespace Shoal.BuildIndex.Internal;

/// <summary>
/// A tag to copy to a remote cluster (the newest digest it was pointed at), or, with
/// <paramref name="Delete"/>, to delete there (<paramref name="Digest"/> is then the one it pointed at here).
/// </summary>
internal sealed record ReplicationTask(long Id, string Repository, string Tag, Digest Digest, string Remote, bool Delete, int Attempts, DateTimeOffset NextAttempt, string? LastError);

/// <summary>
/// The durable queue of tag replications (SQLite in the data directory, WAL, synchronous commits):
/// one row per repository, tag and remote build-index. A tag written again before its copy ran
/// replaces the digest and starts afresh, so a moving tag is copied once, at its newest digest; a
/// deletion queued for the tag replaces a copy not yet done (and a later write the deletion).
/// </summary>
internal sealed class ReplicationQueue : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly TimeProvider _time;
    private long _depth;

    public ReplicationQueue(string dataDir, TimeProvider time)
    {
        _time = time;
        _connection = DurableDatabase.Open(dataDir, "replication.db", """
            CREATE TABLE IF NOT EXISTS tasks (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                repository TEXT NOT NULL,
                tag TEXT NOT NULL,
                digest TEXT NOT NULL,
                remote TEXT NOT NULL,
                created INTEGER NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt INTEGER NOT NULL,
                last_error TEXT NULL,
                UNIQUE (repository, tag, remote));
            CREATE INDEX IF NOT EXISTS tasks_next_attempt ON tasks (next_attempt);
            """);
        AddDeleteColumn();
        RefreshDepth();
    }

    /// <summary>Tasks queued (due or waiting for a retry).</summary>
    public long Depth => Interlocked.Read(ref _depth);

    /// <summary>Raised after tasks were added (the worker wakes up).</summary>
    public event Action? Enqueued;

    /// <summary>
    /// Durably queues the tag for each remote (one transaction), replacing an older task of the same
    /// tag: a copy of <paramref name="digest"/>, or with <paramref name="delete"/> its deletion.
    /// </summary>
    public async Task EnqueueAsync(string repository, string tag, Digest digest, IReadOnlyCollection<string> remotes, bool delete, CancellationToken cancellationToken)
    {
        if (remotes.Count == 0)
        {
            return;
        }
        await WithGateAsync(() =>
        {
            var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            using var transaction = _connection.BeginTransaction();
            foreach (var remote in remotes)
            {
                using var command = _connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = """
                    INSERT INTO tasks (repository, tag, digest, remote, created, attempts, next_attempt, delete_tag)
                    VALUES ($repository, $tag, $digest, $remote, $now, 0, $now, $delete)
                    ON CONFLICT (repository, tag, remote) DO UPDATE
                    SET digest = excluded.digest, delete_tag = excluded.delete_tag, attempts = 0, next_attempt = excluded.next_attempt, last_error = NULL
                    """;
                command.Parameters.AddWithValue("$delete", delete ? 1 : 0);
                command.Parameters.AddWithValue("$repository", repository);
                command.Parameters.AddWithValue("$tag", tag);
                command.Parameters.AddWithValue("$digest", digest.ToString());
                command.Parameters.AddWithValue("$remote", remote);
                command.Parameters.AddWithValue("$now", now);
                command.ExecuteNonQuery();
            }
            transaction.Commit();
            RefreshDepth();
            return 0;
        }, cancellationToken);
        Enqueued?.Invoke();
    }

    /// <summary>Tasks due now, soonest first.</summary>
    public Task<IReadOnlyList<ReplicationTask>> DueAsync(int limit, CancellationToken cancellationToken) =>
        QueryAsync("WHERE next_attempt <= $now ORDER BY next_attempt, id", limit, cancellationToken);

    /// <summary>Every queued task, soonest first, at most <paramref name="limit"/>.</summary>
    public Task<IReadOnlyList<ReplicationTask>> ListAsync(int limit, CancellationToken cancellationToken) =>
        QueryAsync("ORDER BY next_attempt, id", limit, cancellationToken);

    /// <summary>When the earliest task is due, or null when the queue is empty.</summary>
    public Task<DateTimeOffset?> NextDueAsync(CancellationToken cancellationToken) => WithGateAsync(() =>
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT MIN(next_attempt) FROM tasks";
        return command.ExecuteScalar() is long ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : (DateTimeOffset?)null;
    }, cancellationToken);

    /// <summary>Removes a finished task, unless the tag moved or was deleted meanwhile (then that is still to do).</summary>
    public Task CompleteAsync(ReplicationTask task, CancellationToken cancellationToken) => WithGateAsync(() =>
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "DELETE FROM tasks WHERE id = $id AND digest = $digest AND delete_tag = $delete";
        command.Parameters.AddWithValue("$id", task.Id);
        command.Parameters.AddWithValue("$digest", task.Digest.ToString());
        command.Parameters.AddWithValue("$delete", task.Delete ? 1 : 0);
        command.ExecuteNonQuery();
        RefreshDepth();
        return 0;
    }, cancellationToken);

    /// <summary>Records a failed attempt and when to try again (unless the tag moved meanwhile).</summary>
    public Task FailAsync(ReplicationTask task, DateTimeOffset nextAttempt, string error, CancellationToken cancellationToken) => WithGateAsync(() =>
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "UPDATE tasks SET attempts = attempts + 1, next_attempt = $next, last_error = $error WHERE id = $id AND digest = $digest AND delete_tag = $delete";
        command.Parameters.AddWithValue("$id", task.Id);
        command.Parameters.AddWithValue("$digest", task.Digest.ToString());
        command.Parameters.AddWithValue("$delete", task.Delete ? 1 : 0);
        command.Parameters.AddWithValue("$next", nextAttempt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$error", error.Length > 2000 ? error[..2000] : error);
        command.ExecuteNonQuery();
        return 0;
    }, cancellationToken);

    public void Dispose()
    {
        _connection.Dispose();
        _gate.Dispose();
    }

    private Task<IReadOnlyList<ReplicationTask>> QueryAsync(string where, int limit, CancellationToken cancellationToken) => WithGateAsync(() =>
    {
        using var command = _connection.CreateCommand();
        command.CommandText = $"SELECT id, repository, tag, digest, remote, delete_tag, attempts, next_attempt, last_error FROM tasks {where} LIMIT $limit";
        command.Parameters.AddWithValue("$now", _time.GetUtcNow().ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$limit", limit);
        using var reader = command.ExecuteReader();
        var tasks = new List<ReplicationTask>();
        while (reader.Read())
        {
            tasks.Add(new ReplicationTask(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), Digest.Parse(reader.GetString(3)), reader.GetString(4),
                reader.GetInt64(5) != 0, reader.GetInt32(6), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(7)), reader.IsDBNull(8) ? null : reader.GetString(8)));
        }
        return (IReadOnlyList<ReplicationTask>)tasks;
    }, cancellationToken);

    private async Task<T> WithGateAsync<T>(Func<T> action, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return action();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The <c>delete_tag</c> column (queues created before deletions were replicated lack it).</summary>
    private void AddDeleteColumn()
    {
        using var probe = _connection.CreateCommand();
        probe.CommandText = "SELECT COUNT(*) FROM pragma_table_info('tasks') WHERE name = 'delete_tag'";
        if (probe.ExecuteScalar() is long and > 0)
        {
            return;
        }
        using var alter = _connection.CreateCommand();
        alter.CommandText = "ALTER TABLE tasks ADD COLUMN delete_tag INTEGER NOT NULL DEFAULT 0";
        alter.ExecuteNonQuery();
    }

    private void RefreshDepth()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM tasks";
        Interlocked.Exchange(ref _depth, command.ExecuteScalar() is long n ? n : 0);
    }
}
