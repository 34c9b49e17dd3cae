using Shoal.Core;

namespace Shoal.Agent.Internal;

/// <summary>A blob the agent needs, with the context a source may use to find it.</summary>
/// <param name="Digest">The blob.</param>
/// <param name="Repository">The repository it was requested through (origins route it to a storage backend).</param>
/// <param name="Upstream">The registry the runtime mirrors (containerd's <c>?ns=</c>), when it said.</param>
internal sealed record BlobRequest(Digest Digest, string Repository, string? Upstream);
