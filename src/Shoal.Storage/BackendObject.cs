namespace Shoal.Storage;

/// <summary>An object stored in a backend.</summary>
/// <param name="Name">Its name.</param>
/// <param name="Size">Its length in bytes.</param>
/// <param name="LastModified">When it was last written, when the backend knows.</param>
public sealed record BackendObject(string Name, long Size, DateTimeOffset? LastModified);
