namespace Shoal.Storage;

/// <summary>
/// Reliable storage behind a cache (origins, build-index): a flat namespace of immutable objects
/// addressed by <see cref="BackendNames">validated names</see>. Implementations stream, never
/// buffer whole objects, and make an object visible only once it is complete.
/// </summary>
/// <remarks>
/// Every method rejects a name that <see cref="BackendNames.IsValid(string?, out string?)"/> refuses
/// with an <see cref="ArgumentException"/>, so caller text can never steer a backend outside its
/// root. An object that does not exist is a null or false result, not an exception; exceptions mean
/// the backend could not answer (I/O, network, permissions).
/// </remarks>
public interface IBlobBackend
{
    /// <summary>The object's size and modification time, or null when it does not exist.</summary>
    Task<BackendObject?> StatAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// Opens the object for streaming from <paramref name="offset"/>, at most <paramref name="length"/>
    /// bytes (to the end when null), or returns null when it does not exist.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="offset"/> or <paramref name="length"/> is negative, or the offset lies past the object's end.
    /// </exception>
    Task<Stream?> OpenReadAsync(string name, long offset, long? length, CancellationToken cancellationToken);

    /// <summary>
    /// Stores exactly <paramref name="length"/> bytes of <paramref name="content"/> under
    /// <paramref name="name"/>, replacing any previous object. The object is invisible until the
    /// call succeeds; a failed or cancelled upload leaves the previous state.
    /// </summary>
    /// <exception cref="InvalidDataException"><paramref name="content"/> is shorter or longer than <paramref name="length"/>.</exception>
    Task UploadAsync(string name, Stream content, long length, CancellationToken cancellationToken);

    /// <summary>
    /// Lists objects whose names start with <paramref name="prefix"/> in ordinal order, at most
    /// <paramref name="limit"/> of them, after <paramref name="continuationToken"/> (the token of the
    /// previous page, null for the first page).
    /// </summary>
    Task<BackendListPage> ListAsync(string prefix, string? continuationToken, int limit, CancellationToken cancellationToken);

    /// <summary>Deletes the object. Returns false when it did not exist.</summary>
    Task<bool> DeleteAsync(string name, CancellationToken cancellationToken);
}
