namespace Shoal.TestKit;

/// <summary>
/// A fact that needs external tools (or root). It is skipped only when a tool is missing and
/// <see cref="ToolCheck.OptionalVariable"/> is 1; otherwise it runs and fails on the missing tool.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class E2EFactAttribute : FactAttribute
{
    public E2EFactAttribute(params string[] requirements)
    {
        Requirements = requirements;
        var missing = ToolCheck.Missing(requirements);
        if (missing.Count > 0 && ToolCheck.IsOptional)
        {
            Skip = ToolCheck.Explain(missing);
        }
    }

    /// <summary>The tools (or <see cref="ToolCheck.Root"/>) the test needs.</summary>
    public IReadOnlyList<string> Requirements { get; }
}
