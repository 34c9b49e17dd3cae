namespace Shoal.Storage.Tests;

/// <summary>Ordered namespace rules: the first match picks the backend and its write mode.</summary>
public sealed class BackendRouterTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "shoal-router-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public void IsWriteThrough_FirstMatchingRuleDecides_NoRuleMeansFalse()
    {
        var router = BackendRouter.Create(
        [
            new BackendRouteOptions { Namespace = "shared/.*", Backend = Filesystem("a") },
            new BackendRouteOptions { Namespace = "other/.*|shared/app", Backend = Filesystem("b") },
        ],
        writeThrough: r => r.Namespace.StartsWith("shared", StringComparison.Ordinal));

        Assert.True(router.IsWriteThrough("shared/app")); // the first rule, though the second matches too
        Assert.False(router.IsWriteThrough("other/app"));
        Assert.False(router.IsWriteThrough("nowhere/app"));
        Assert.Null(router.Resolve("nowhere/app"));
    }

    [Fact]
    public void Create_WithoutWriteThrough_EveryRuleWritesBack()
    {
        var router = BackendRouter.Create([new BackendRouteOptions { Backend = Filesystem("a") }]);

        Assert.NotNull(router.Resolve("team/app"));
        Assert.False(router.IsWriteThrough("team/app"));
    }

    private BackendOptions Filesystem(string name) => new() { Type = BackendOptions.FileSystem, Root = Path.Combine(_root, name) };
}
