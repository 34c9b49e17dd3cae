namespace Shoal.TestKit;

/// <summary>What <see cref="OciImageBuilder"/> should put in one single-platform image.</summary>
public sealed class OciImageSpec
{
    /// <summary>The platform recorded in the config (and in an index entry). Default linux/amd64.</summary>
    public OciPlatform Platform { get; init; } = OciPlatform.LinuxAmd64;

    /// <summary>Bytes of random (incompressible) file content per layer, one entry per layer. Default one 256 KiB layer.</summary>
    public IReadOnlyList<int> LayerSizes { get; init; } = [256 * 1024];

    /// <summary>How many files each layer's content is split into. Default 2.</summary>
    public int FilesPerLayer { get; init; } = 2;
}
