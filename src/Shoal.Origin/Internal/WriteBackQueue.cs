using System.Globalization;
using System.Text.Json.Serialization;
using Microsoft.Data.Sqlite;
using Shoal.Core;
using Shoal.Hosting;

namespace Shoal.Origin.Internal;

/// <summary>What a queued task does.</summary>
internal static class WriteBackKinds
{
    /// <summary>
    /// Upload the cached blob to its namespace's backend (<see cref="NewTask.Target"/> names that
    /// storage, so a blob of namespaces on different backends has one task each); the blob is marked
    /// persisted once no write-back of it is left.
    /// </summary>
    public const string WriteBack = "writeback";

    /// <summary>Copy the cached blob to another origin (<see cref="QueuedTask.Target"/>).</summary>
    public const string Replicate = "replicate";
}

/// <summary>A task to enqueue.</summary>
internal sealed record NewTask(string Kind, Digest Digest, string? Namespace, string Target = "");

/// <summary>A task in the queue.</summary>
internal sealed record QueuedTask(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("digest")] string Digest,
    [property: JsonPropertyName("namespace")] string? Namespace,
    [property: JsonPropertyName("target")] string? Target,
    [property: JsonPropertyName("created")] DateTimeOffset Created,
    [property: JsonPropertyName("attempts")] int Attempts,
    [property: JsonPropertyName("nextAttempt")] DateTimeOffset NextAttempt,
    [property: JsonPropertyName("lastError")] string? LastError);

/// <summary>The answer of <c>GET /v1/writeback</c>.</summary>
internal sealed record WriteBackListing(
    [property: JsonPropertyName("depth")] long Depth,
    [property: JsonPropertyName("tasks")] IReadOnlyList<QueuedTask> Tasks);

/// <summary>
/// The persisted queue of write-back and replication tasks: a SQLite database
/// (<c>writeback.db</c> in the data directory, WAL journal, synchronous=FULL), so an enqueued task
/// survives a crash the moment <see cref="EnqueueAsync"/> returns.
/// </summary>
internal sealed class WriteBackQueue : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly TimeProvider _time;
    private long _depth;

    public WriteBackQueue(string dataDir, TimeProvider time)
    {
        _time = time;
        _connection = DurableDatabase.Open(dataDir, "writeback.db", """
            CREATE TABLE IF NOT EXISTS tasks (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                kind TEXT NOT NULL,
                digest TEXT NOT NULL,
                namespace TEXT NULL,
                target TEXT NOT NULL DEFAULT '',
                created INTEGER NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt INTEGER NOT NULL,
                last_error TEXT NULL,
                UNIQUE (kind, digest, target));
            CREATE INDEX IF NOT EXISTS tasks_next_attempt ON tasks (next_attempt);
            """);
        RefreshDepth();
    }

    /// <summary>How many tasks are queued (due or waiting for a retry).</summary>
    public long Depth => Interlocked.Read(ref _depth);

    /// <summary>
    /// Durably adds tasks (one transaction); a task already queued for the same blob and target is
    /// kept as it is. <paramref name="whileHeld"/> runs after the commit, before any other call of the
    /// queue (see <see cref="FinishWriteBackAsync"/>).
    /// </summary>
    public async Task EnqueueAsync(IReadOnlyCollection<NewTask> tasks, Action? whileHeld, CancellationToken cancellationToken)
    {
        if (tasks.Count == 0)
        {
            return;
        }
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            using var transaction = _connection.BeginTransaction();
            foreach (var task in tasks)
            {
                using var command = _connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = """
                    INSERT INTO tasks (kind, digest, namespace, target, created, attempts, next_attempt)
                    VALUES ($kind, $digest, $ns, $target, $now, 0, $now)
                    ON CONFLICT (kind, digest, target) DO NOTHING
                    """;
                command.Parameters.AddWithValue("$kind", task.Kind);
                command.Parameters.AddWithValue("$digest", task.Digest.ToString());
                command.Parameters.AddWithValue("$ns", (object?)task.Namespace ?? DBNull.Value);
                command.Parameters.AddWithValue("$target", task.Target);
                command.Parameters.AddWithValue("$now", now);
                command.ExecuteNonQuery();
            }
            transaction.Commit();
            RefreshDepth();
            whileHeld?.Invoke();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Removes a finished write-back task — by <paramref name="id"/>, or the one of
    /// <paramref name="digest"/> for storage <paramref name="target"/>, or none when both are null —
    /// and runs <paramref name="whenNoneLeft"/> if no write-back of the blob is queued any more, as
    /// one step with respect to <see cref="EnqueueAsync"/>: a blob is marked written back (and may be
    /// evicted) only when every storage its namespaces route to has it.
    /// </summary>
    public async Task FinishWriteBackAsync(Digest digest, long? id, string? target, Action whenNoneLeft, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (id is not null || target is not null)
            {
                using var delete = _connection.CreateCommand();
                delete.CommandText = id is not null
                    ? "DELETE FROM tasks WHERE id = $id"
                    : "DELETE FROM tasks WHERE kind = $kind AND digest = $digest AND target = $target";
                delete.Parameters.AddWithValue("$id", id ?? 0);
                delete.Parameters.AddWithValue("$kind", WriteBackKinds.WriteBack);
                delete.Parameters.AddWithValue("$digest", digest.ToString());
                delete.Parameters.AddWithValue("$target", target ?? string.Empty);
                delete.ExecuteNonQuery();
                RefreshDepth();
            }
            using var count = _connection.CreateCommand();
            count.CommandText = "SELECT COUNT(*) FROM tasks WHERE kind = $kind AND digest = $digest";
            count.Parameters.AddWithValue("$kind", WriteBackKinds.WriteBack);
            count.Parameters.AddWithValue("$digest", digest.ToString());
            if (count.ExecuteScalar() is long left && left == 0)
            {
                whenNoneLeft();
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Tasks due now, oldest due first, skipping <paramref name="exclude"/> (tasks already running).</summary>
    public async Task<IReadOnlyList<QueuedTask>> DueAsync(int limit, IReadOnlyCollection<long> exclude, CancellationToken cancellationToken)
    {
        var due = await QueryAsync("WHERE next_attempt <= $now ORDER BY next_attempt, id", limit + exclude.Count, cancellationToken,
            ("$now", _time.GetUtcNow().ToUnixTimeMilliseconds()));
        return due.Where(q => !exclude.Contains(q.Id)).Take(limit).ToArray();
    }

    /// <summary>Every queued task, by next attempt, at most <paramref name="limit"/>.</summary>
    public Task<IReadOnlyList<QueuedTask>> ListAsync(int limit, CancellationToken cancellationToken)
        => QueryAsync("ORDER BY next_attempt, id", limit, cancellationToken);

    /// <summary>When the earliest task is due, or null when the queue is empty.</summary>
    public async Task<DateTimeOffset?> NextDueAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT MIN(next_attempt) FROM tasks";
            var value = command.ExecuteScalar();
            return value is long ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Removes a finished task.</summary>
    public async Task CompleteAsync(long id, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "DELETE FROM tasks WHERE id = $id";
            command.Parameters.AddWithValue("$id", id);
            command.ExecuteNonQuery();
            RefreshDepth();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Records a failed attempt and when to try again.</summary>
    public async Task FailAsync(long id, DateTimeOffset nextAttempt, string error, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "UPDATE tasks SET attempts = attempts + 1, next_attempt = $next, last_error = $error WHERE id = $id";
            command.Parameters.AddWithValue("$id", id);
            command.Parameters.AddWithValue("$next", nextAttempt.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$error", error.Length > 2000 ? error[..2000] : error);
            command.ExecuteNonQuery();
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<IReadOnlyList<QueuedTask>> QueryAsync(string clause, int limit, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT id, kind, digest, namespace, target, created, attempts, next_attempt, last_error FROM tasks "
                + clause + " LIMIT " + limit.ToString(CultureInfo.InvariantCulture);
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name, value);
            }
            using var reader = command.ExecuteReader();
            var tasks = new List<QueuedTask>();
            while (reader.Read())
            {
                var target = reader.GetString(4);
                tasks.Add(new QueuedTask(
                    reader.GetInt64(0),
                    reader.GetString(1),
                    reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetString(3),
                    target.Length == 0 ? null : target,
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)),
                    reader.GetInt32(6),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(7)),
                    reader.IsDBNull(8) ? null : reader.GetString(8)));
            }
            return tasks;
        }
        finally
        {
            _gate.Release();
        }
    }

    private void RefreshDepth()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM tasks";
        Interlocked.Exchange(ref _depth, (long)command.ExecuteScalar()!);
    }

    public void Dispose()
    {
        _connection.Dispose();
        _gate.Dispose();
    }
}

[JsonSerializable(typeof(WriteBackListing))]
internal sealed partial class WriteBackJsonContext : JsonSerializerContext;
