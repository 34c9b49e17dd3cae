using Microsoft.Data.Sqlite;

namespace Shoal.Hosting;

/// <summary>
/// The SQLite files in which components keep what they acknowledged and still have to do (the
/// origin's write-back queue, build-index's replication queue): one connection, write-ahead log,
/// every commit synced to disk before it returns.
/// </summary>
public static class DurableDatabase
{
    /// <summary>Opens (creating it and its directory when missing) <paramref name="file"/> in <paramref name="directory"/>, then runs <paramref name="schema"/>.</summary>
    public static SqliteConnection Open(string directory, string file, string schema)
    {
        Directory.CreateDirectory(directory);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(directory, file),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString());
        connection.Open();
        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA journal_mode=WAL;\nPRAGMA synchronous=FULL;\n" + schema;
            command.ExecuteNonQuery();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }
}
