namespace Shoal.TestKit;

/// <summary>Runs <c>skopeo</c> (1.9+) with bounded time; every call fails with skopeo's full output.</summary>
public static class Skopeo
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    /// <summary>
    /// <c>skopeo --insecure-policy copy ARGS</c>: no signature policy file needed (the tests copy
    /// images they built themselves), output captured; throws unless skopeo exits 0.
    /// </summary>
    public static async Task<ProcessResult> CopyAsync(params string[] arguments)
    {
        var skopeo = ToolCheck.Require("skopeo");
        var result = await ExternalProcess.RunAsync(skopeo, ["--insecure-policy", "copy", "--retry-times", "0", .. arguments], Timeout);
        return result.EnsureSuccess();
    }

    /// <summary>Pushes <c>oci:LAYOUT:TAG</c> to <c>docker://HOSTPORT/REFERENCE</c> over plain HTTP.</summary>
    public static Task<ProcessResult> PushAsync(string layout, string tag, string hostPort, string reference, params string[] extra) =>
        CopyAsync([.. extra, "--dest-tls-verify=false", $"oci:{layout}:{tag}", $"docker://{hostPort}/{reference}"]);

    /// <summary>Pulls <c>docker://HOSTPORT/REFERENCE</c> over plain HTTP into <paramref name="destination"/> (e.g. <c>oci:DIR:TAG</c>, <c>dir:DIR</c>).</summary>
    public static Task<ProcessResult> PullAsync(string hostPort, string reference, string destination, params string[] extra) =>
        CopyAsync([.. extra, "--src-tls-verify=false", $"docker://{hostPort}/{reference}", destination]);
}
