using System.Runtime.InteropServices;

namespace Shoal.P2P.Engine;

/// <summary>
/// Decides whether a connection may touch the blob file on the socket event thread. A small piece's
/// write and a downloading agent's block read normally hit the page cache and take microseconds, so
/// they run where the socket read completed (see <see cref="PeerSockets.Configure"/>). A call that
/// waits for the disk instead (a disk that cannot keep up and the kernel throttling dirty pages, a
/// page evicted under memory pressure) would hold up every socket of the process while it waits. So
/// every such call is watched (a seed's block reads are not: they may need the disk by design, and
/// run on the pool anyway), and once <see cref="WaitsToMove"/> of them within <see cref="Backoff"/>
/// each waited <see cref="SlowCall"/> or longer, all of them move to the thread pool until none has
/// for <see cref="Backoff"/>. Thread-safe.
/// </summary>
/// <remarks>
/// A call counts as waiting when it took that long by the clock <em>and</em> its thread blocked
/// during it (a voluntary context switch, on Linux): on a busy node a thread is often preempted for
/// tens of milliseconds in the middle of a page-cache copy, which is no reason to move anything. Time
/// the call's thread spent compiling code (a process's first calls compile what they run: 64–90 ms
/// for the first block reads of an agent, measured on a busy machine) and garbage-collection pauses
/// are not waiting for the disk and are left out. And a wait or two are not enough: on a busy
/// virtual machine a call sometimes blocks that long for memory (measured: one or two block reads of
/// an agent in some 16-host benchmark runs), while a disk that cannot keep up makes calls wait again
/// and again.
/// </remarks>
internal sealed partial class DiskWatch
{
    /// <summary>
    /// A blocking file call this slow waited for the disk: page-cache hits take microseconds, while
    /// the kernel's dirty-page throttling pauses a writer for 10–200 ms.
    /// </summary>
    public static readonly TimeSpan SlowCall = TimeSpan.FromMilliseconds(50);

    /// <summary>How long file calls stay off the event thread after one waited.</summary>
    public static readonly TimeSpan Backoff = TimeSpan.FromSeconds(10);

    /// <summary>Waits within <see cref="Backoff"/> that move file calls off the event thread.</summary>
    public const int WaitsToMove = 3;

    private const int RusageThread = 1;

    private readonly TimeProvider _time;
    private readonly Func<long> _voluntarySwitches;
    private readonly Func<TimeSpan> _notWaiting;
    private long _inlineFrom = long.MinValue;
    private readonly Queue<long> _waits = new(WaitsToMove);
    private long _slowCalls;

    /// <param name="time">The clock.</param>
    /// <param name="voluntarySwitches">The calling thread's count of voluntary context switches, or -1 where unknown (default: the OS's count on Linux).</param>
    /// <param name="notWaiting">The calling thread's time compiling code plus the process's collection pauses so far (default: the runtime's).</param>
    public DiskWatch(TimeProvider time, Func<long>? voluntarySwitches = null, Func<TimeSpan>? notWaiting = null)
    {
        _time = time;
        _voluntarySwitches = voluntarySwitches ?? ThreadVoluntarySwitches;
        _notWaiting = notWaiting ?? CompilingAndCollecting;
    }

    /// <summary>False while file calls must stay off the socket event thread (a recent one waited for the disk).</summary>
    public bool InlineAllowed => _time.GetTimestamp() >= Volatile.Read(ref _inlineFrom);

    /// <summary>File calls that waited <see cref="SlowCall"/> or longer (one-offs included).</summary>
    public long SlowCalls => Interlocked.Read(ref _slowCalls);

    /// <summary>Marks the start of a file call on this thread; pass it to <see cref="Finished"/> when the call returns.</summary>
    public FileCallStart Started() => new(_time.GetTimestamp(), _voluntarySwitches(), _notWaiting());

    /// <summary>
    /// Records a file call begun at <paramref name="started"/> on this thread, wherever it ran: the
    /// last of <see cref="WaitsToMove"/> that waited within <see cref="Backoff"/> keeps file calls off
    /// the event thread for <see cref="Backoff"/> from now (and so does every one after it). Returns
    /// how long the call took when it is the one that moved them off (the first after a quiet spell,
    /// worth a log line), else null.
    /// </summary>
    public TimeSpan? Finished(FileCallStart started)
    {
        var now = _time.GetTimestamp();
        var elapsed = _time.GetElapsedTime(started.Timestamp, now);
        if (elapsed < SlowCall
            || elapsed - (_notWaiting() - started.NotWaiting) < SlowCall
            || (started.VoluntarySwitches >= 0 && _voluntarySwitches() == started.VoluntarySwitches))
        {
            return null; // quick, compiling or collecting, or only preempted
        }
        Interlocked.Increment(ref _slowCalls);
        var backoff = (long)(Backoff.TotalSeconds * _time.TimestampFrequency);
        lock (_waits)
        {
            while (_waits.TryPeek(out var oldest) && (now - oldest > backoff || _waits.Count >= WaitsToMove))
            {
                _waits.Dequeue();
            }
            _waits.Enqueue(now);
            if (_waits.Count < WaitsToMove)
            {
                return null; // a one-off so far
            }
        }
        var wasInline = now >= Interlocked.Exchange(ref _inlineFrom, now + backoff);
        return wasInline ? elapsed : null;
    }

    /// <summary>Time this thread spent compiling code, plus the process's garbage-collection pauses, so far.</summary>
    internal static TimeSpan CompilingAndCollecting() => System.Runtime.JitInfo.GetCompilationTime(currentThread: true) + GC.GetTotalPauseDuration();

    /// <summary>The calling thread's voluntary context switches (Linux <c>getrusage(RUSAGE_THREAD)</c>), or -1.</summary>
    internal static long ThreadVoluntarySwitches()
        => OperatingSystem.IsLinux() && GetRusage(RusageThread, out var usage) == 0 ? usage.VoluntarySwitches : -1;

    [LibraryImport("libc", EntryPoint = "getrusage")]
    private static partial int GetRusage(int who, out Rusage usage);

    /// <summary>Linux <c>struct rusage</c> (64-bit: two timevals, then fourteen longs).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Rusage
    {
        public long UserSeconds;
        public long UserMicroseconds;
        public long SystemSeconds;
        public long SystemMicroseconds;
        public long MaxRss;
        public long SharedMemory;
        public long UnsharedData;
        public long UnsharedStack;
        public long MinorFaults;
        public long MajorFaults;
        public long Swaps;
        public long BlockInputs;
        public long BlockOutputs;
        public long MessagesSent;
        public long MessagesReceived;
        public long Signals;
        public long VoluntarySwitches;
        public long InvoluntarySwitches;
    }
}

/// <summary>When a file call began: the clock, the thread's voluntary context switches (-1: unknown), and its compiling and collecting time so far.</summary>
internal readonly record struct FileCallStart(long Timestamp, long VoluntarySwitches, TimeSpan NotWaiting);
