using Shoal.Core;

namespace Shoal.Proxy.Tests;

/// <summary>A pushed image manifest.</summary>
internal sealed record TestImage(Digest Digest, byte[] Manifest, string MediaType);
