using System.Runtime.InteropServices;

namespace Shoal.TestKit;

/// <summary>
/// Finds the external programs end-to-end tests drive. A missing tool fails the test (the one test
/// command installs them, so a missing tool means a broken environment), unless the environment
/// variable <see cref="OptionalVariable"/> is <c>1</c>: then tests that need it are skipped with a message.
/// </summary>
public static partial class ToolCheck
{
    /// <summary>Set to <c>1</c> to skip, rather than fail, tests whose tools are missing.</summary>
    public const string OptionalVariable = "SHOAL_E2E_OPTIONAL";

    /// <summary>skopeo, the registry client that pushes and pulls in the end-to-end tests.</summary>
    public const string Skopeo = "skopeo";

    /// <summary>The containerd daemon.</summary>
    public const string Containerd = "containerd";

    /// <summary>containerd's command-line client.</summary>
    public const string Ctr = "ctr";

    /// <summary>The CNCF distribution registry as Debian packages it, a reference registry.</summary>
    public const string DockerRegistry = "docker-registry";

    /// <summary>Apache's htpasswd (apache2-utils), which writes the bcrypt password files the registry's basic authentication reads.</summary>
    public const string Htpasswd = "htpasswd";

    /// <summary>redis-server, the tracker's shared peer store.</summary>
    public const string RedisServer = "redis-server";

    /// <summary>Pseudo-tool: the test needs to run as root (containerd).</summary>
    public const string Root = "root";

    /// <summary>True when <see cref="OptionalVariable"/> is set to 1.</summary>
    public static bool IsOptional => Environment.GetEnvironmentVariable(OptionalVariable) == "1";

    /// <summary>True when the process runs as root (uid 0).</summary>
    public static bool IsRoot => !OperatingSystem.IsWindows() && GetEffectiveUserId() == 0;

    /// <summary>The full path of <paramref name="tool"/> on PATH (or the sbin directories), or null.</summary>
    public static string? Find(string tool)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        var directories = path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]);
        foreach (var directory in directories)
        {
            var candidate = Path.Combine(directory, tool);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    /// <summary>The requirements among <paramref name="tools"/> that this machine does not meet.</summary>
    public static IReadOnlyList<string> Missing(IEnumerable<string> tools) =>
        tools.Where(tool => tool == Root ? !IsRoot : Find(tool) is null).ToList();

    /// <summary>The full path of <paramref name="tool"/>; throws with an explanation when it is missing.</summary>
    public static string Require(string tool)
    {
        if (tool == Root)
        {
            return IsRoot ? "root" : throw new InvalidOperationException(Explain([Root]));
        }
        return Find(tool) ?? throw new InvalidOperationException(Explain([tool]));
    }

    /// <summary>Why a test cannot run here, and how to fix or skip it.</summary>
    public static string Explain(IReadOnlyList<string> missing) =>
        $"end-to-end prerequisites missing: {string.Join(", ", missing.Select(m => m == Root ? "root privileges" : m))} " +
        $"(scripts/test.sh installs the tools; set {OptionalVariable}=1 to skip these tests instead)";

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUserId();
}
