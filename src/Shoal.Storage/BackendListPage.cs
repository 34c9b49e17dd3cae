namespace Shoal.Storage;

/// <summary>One page of a backend listing.</summary>
/// <param name="Objects">The objects of this page, in ordinal name order.</param>
/// <param name="ContinuationToken">Pass it to get the next page; null when this is the last one.</param>
public sealed record BackendListPage(IReadOnlyList<BackendObject> Objects, string? ContinuationToken);
