using Microsoft.Data.Sqlite;
using Shoal.BuildIndex.Internal;
using Shoal.Core;

namespace Shoal.BuildIndex.Tests;

/// <summary>The durable replication queue on its own (SQLite on disk).</summary>
public sealed class ReplicationQueueTests : IDisposable
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Deletion_ReplacesAPendingCopy_AndACopyReplacesAPendingDeletion()
    {
        using var queue = new ReplicationQueue(_dir.Path, TimeProvider.System);
        var (one, two) = (Digest.Compute("one"u8), Digest.Compute("two"u8));

        await queue.EnqueueAsync("team/app", "v1", one, ["http://b/"], delete: false, Ct);
        await queue.EnqueueAsync("team/app", "v1", one, ["http://b/"], delete: true, Ct);
        var task = Assert.Single(await queue.ListAsync(10, Ct));
        Assert.True(task.Delete);

        await queue.EnqueueAsync("team/app", "v1", two, ["http://b/"], delete: false, Ct);
        await queue.CompleteAsync(task, Ct); // the deletion was overtaken: the copy of two stays queued
        task = Assert.Single(await queue.ListAsync(10, Ct));
        Assert.False(task.Delete);
        Assert.Equal(two, task.Digest);
    }

    [Fact]
    public async Task QueueOfAnEarlierVersion_GetsTheDeleteColumn_AndKeepsItsTasks()
    {
        // The schema before deletions were replicated, with one task in it.
        var path = System.IO.Path.Combine(_dir.Path, "replication.db");
        await using (var old = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            old.Open();
            using var command = old.CreateCommand();
            command.CommandText = """
                CREATE TABLE tasks (id INTEGER PRIMARY KEY AUTOINCREMENT, repository TEXT NOT NULL, tag TEXT NOT NULL,
                    digest TEXT NOT NULL, remote TEXT NOT NULL, created INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt INTEGER NOT NULL, last_error TEXT NULL, UNIQUE (repository, tag, remote));
                INSERT INTO tasks (repository, tag, digest, remote, created, next_attempt)
                VALUES ('team/app', 'v1', 'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824', 'http://b/', 0, 0);
                """;
            command.ExecuteNonQuery();
        }

        using var queue = new ReplicationQueue(_dir.Path, TimeProvider.System);
        var task = Assert.Single(await queue.ListAsync(10, Ct));
        Assert.False(task.Delete);
        Assert.Equal("team/app", task.Repository);
        await queue.EnqueueAsync("team/app", "v2", task.Digest, ["http://b/"], delete: true, Ct);
        Assert.Equal(2, queue.Depth);
    }
}
