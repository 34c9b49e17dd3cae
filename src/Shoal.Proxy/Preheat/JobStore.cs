using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Shoal.Proxy.Preheat;

/// <summary>
/// The preheat jobs: kept in memory, persisted as one JSON file per job under
/// <c>&lt;dataDir&gt;/preheat/jobs/</c> (written to a temporary file and renamed), reloaded at start.
/// The headers a request passed for the manifest requests (Harbor's pull token) are kept beside the
/// job in <c>&lt;id&gt;.headers</c> until it finishes, so a job resumed after a restart can still fetch;
/// every file is readable by the proxy's user only (mode 0600). Every read and change goes through
/// one lock; callers get copies, never the live objects.
/// </summary>
internal sealed partial class JobStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<long, PreheatJob> _jobs = [];
    private readonly string _dir;
    private readonly TimeProvider _time;
    private readonly PreheatOptions _options;
    private readonly ILogger<JobStore> _logger;
    private long _nextId = 1;

    public JobStore(ProxyOptions options, TimeProvider time, ILogger<JobStore> logger)
    {
        _options = options.Preheat;
        _time = time;
        _logger = logger;
        _dir = Path.Combine(Path.GetFullPath(options.DataDir), "preheat", "jobs");
        Directory.CreateDirectory(_dir);
        Load();
    }

    /// <summary>Jobs that were pending or running when the proxy stopped; they run again.</summary>
    public IReadOnlyList<long> Unfinished()
    {
        lock (_lock)
        {
            return _jobs.Values.Where(j => !JobState.IsFinished(j.State)).Select(j => j.Id).Order().ToArray();
        }
    }

    /// <summary>
    /// Returns the job that already does (or did) this work, or creates a pending one.
    /// A running job is reused for the same key; a succeeded one only when the digest pins the content.
    /// </summary>
    public (PreheatJob Job, bool Created) GetOrCreate(PreheatRequest request)
    {
        lock (_lock)
        {
            var key = request.Key;
            var existing = _jobs.Values
                .Where(j => j.Request.Key == key && (!JobState.IsFinished(j.State) || (request.Pinned && j.State == JobState.Succeeded)))
                .OrderByDescending(j => j.Id)
                .FirstOrDefault();
            if (existing is not null)
            {
                return (Copy(existing), false);
            }
            var now = _time.GetUtcNow();
            var job = new PreheatJob { Id = _nextId++, Request = request, CreatedAt = now, UpdatedAt = now };
            _jobs[job.Id] = job;
            if (request.Headers.Count > 0)
            {
                // Before the job file: a job on disk never lacks the headers it was given.
                WriteAtomically(HeadersPathOf(job.Id), JsonSerializer.SerializeToUtf8Bytes(request.Headers, PreheatJsonContext.Default.DictionaryStringString));
            }
            Save(job);
            return (Copy(job), true);
        }
    }

    public PreheatJob? Get(long id)
    {
        lock (_lock)
        {
            return _jobs.TryGetValue(id, out var job) ? Copy(job) : null;
        }
    }

    /// <summary>Headers of a job's request (kept until the job finishes).</summary>
    public Dictionary<string, string> Headers(long id)
    {
        lock (_lock)
        {
            return _jobs.TryGetValue(id, out var job) ? new(job.Request.Headers, StringComparer.OrdinalIgnoreCase) : [];
        }
    }

    public IReadOnlyList<PreheatJob> List()
    {
        lock (_lock)
        {
            return _jobs.Values.OrderByDescending(j => j.Id).Select(Copy).ToArray();
        }
    }

    /// <summary>Changes a job under the lock and persists it; false when the job is gone.</summary>
    public bool Update(long id, Action<PreheatJob> change, bool persist = true)
    {
        lock (_lock)
        {
            if (!_jobs.TryGetValue(id, out var job))
            {
                return false;
            }
            change(job);
            job.UpdatedAt = _time.GetUtcNow();
            if (JobState.IsFinished(job.State))
            {
                job.FinishedAt ??= job.UpdatedAt;
                if (job.Request.Headers.Count > 0)
                {
                    job.Request.Headers.Clear();
                    File.Delete(HeadersPathOf(id));
                }
            }
            if (persist)
            {
                Save(job);
            }
            return true;
        }
    }

    /// <summary>Forgets a job and its file; false when unknown.</summary>
    public bool Delete(long id)
    {
        lock (_lock)
        {
            if (!_jobs.Remove(id))
            {
                return false;
            }
            File.Delete(PathOf(id));
            File.Delete(HeadersPathOf(id));
            return true;
        }
    }

    /// <summary>Forgets finished jobs older than the retention.</summary>
    public int Purge()
    {
        lock (_lock)
        {
            var cutoff = _time.GetUtcNow() - _options.Retention;
            var old = _jobs.Values.Where(j => JobState.IsFinished(j.State) && j.UpdatedAt < cutoff).Select(j => j.Id).ToArray();
            foreach (var id in old)
            {
                _jobs.Remove(id);
                File.Delete(PathOf(id));
                File.Delete(HeadersPathOf(id));
            }
            return old.Length;
        }
    }

    private static PreheatJob Copy(PreheatJob job)
    {
        var copy = JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(job, PreheatJsonContext.Default.PreheatJob), PreheatJsonContext.Default.PreheatJob)!;
        copy.Request.Headers = new(job.Request.Headers, StringComparer.OrdinalIgnoreCase);
        return copy;
    }

    private string PathOf(long id) => Path.Combine(_dir, id.ToString(CultureInfo.InvariantCulture) + ".json");

    private string HeadersPathOf(long id) => Path.Combine(_dir, id.ToString(CultureInfo.InvariantCulture) + ".headers");

    private void Save(PreheatJob job) => WriteAtomically(PathOf(job.Id), JsonSerializer.SerializeToUtf8Bytes(job, PreheatJsonContext.Default.PreheatJob));

    /// <summary>Writes a temporary file readable by the owner only, then renames it over <paramref name="path"/>.</summary>
    private static void WriteAtomically(string path, byte[] bytes)
    {
        var temp = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var stream = new FileStream(temp, options))
        {
            stream.Write(bytes);
        }
        File.Move(temp, path, overwrite: true);
    }

    private void Load()
    {
        foreach (var file in Directory.EnumerateFiles(_dir, "*.json"))
        {
            try
            {
                var job = JsonSerializer.Deserialize(File.ReadAllBytes(file), PreheatJsonContext.Default.PreheatJob);
                if (job is null || job.Id <= 0 || PathOf(job.Id) != file)
                {
                    throw new JsonException("not a preheat job");
                }
                if (job.State == JobState.Running)
                {
                    job.State = JobState.Pending;
                }
                var headers = HeadersPathOf(job.Id);
                if (!JobState.IsFinished(job.State) && File.Exists(headers))
                {
                    try
                    {
                        job.Request.Headers = new(
                            JsonSerializer.Deserialize(File.ReadAllBytes(headers), PreheatJsonContext.Default.DictionaryStringString) ?? [],
                            StringComparer.OrdinalIgnoreCase);
                    }
                    catch (JsonException)
                    {
                        // The job runs without them: a registry that needed them answers 401, which the job reports.
                        LogUnreadableHeaders(_logger, job.Id);
                    }
                }
                _jobs[job.Id] = job;
                _nextId = Math.Max(_nextId, job.Id + 1);
            }
            catch (Exception ex) when (ex is JsonException or IOException or NotSupportedException)
            {
                LogUnreadable(_logger, file, ex.Message);
            }
        }
        foreach (var temp in Directory.EnumerateFiles(_dir, "*.tmp"))
        {
            File.Delete(temp);
        }
        // Headers of jobs that finished or are gone (a stop between the two deletes) are not kept.
        foreach (var headers in Directory.EnumerateFiles(_dir, "*.headers"))
        {
            if (!long.TryParse(Path.GetFileNameWithoutExtension(headers), NumberStyles.None, CultureInfo.InvariantCulture, out var id)
                || !_jobs.TryGetValue(id, out var job) || JobState.IsFinished(job.State))
            {
                File.Delete(headers);
            }
        }
    }

    [LoggerMessage(101, LogLevel.Warning, "Ignoring unreadable preheat job file {File}: {Reason}")]
    private static partial void LogUnreadable(ILogger logger, string file, string reason);

    [LoggerMessage(102, LogLevel.Warning, "Preheat job {Id} resumes without its request headers: their file is unreadable")]
    private static partial void LogUnreadableHeaders(ILogger logger, long id);
}
