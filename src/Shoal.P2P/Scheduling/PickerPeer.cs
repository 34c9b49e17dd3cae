namespace Shoal.P2P.Scheduling;

/// <summary>
/// A peer as a <see cref="PiecePicker"/> sees it: the pieces it has, whether it is an origin, and
/// the pieces requested from it. Created by <see cref="PiecePicker.AddPeer"/>; changed only through the picker.
/// </summary>
public sealed class PickerPeer
{
    internal PickerPeer(PiecePicker owner, int pieceCount, bool isOrigin, object? tag)
    {
        Owner = owner;
        Pieces = new Bitfield(pieceCount);
        IsOrigin = isOrigin;
        Tag = tag;
    }

    /// <summary>True for an origin (its upload is kept for pieces no agent has).</summary>
    public bool IsOrigin { get; }

    /// <summary>The caller's object for this peer (its connection, say).</summary>
    public object? Tag { get; }

    /// <summary>How many pieces the peer has.</summary>
    public int HaveCount => Pieces.SetCount;

    /// <summary>True when the peer has every piece.</summary>
    public bool IsComplete => Pieces.IsFull;

    /// <summary>How many pieces are requested from the peer.</summary>
    public int RequestCount => RequestList.Count;

    /// <summary>The pieces requested from the peer, oldest first.</summary>
    public IReadOnlyList<int> Requests => RequestList;

    /// <summary>True when the peer has piece <paramref name="index"/>.</summary>
    public bool Has(int index) => Pieces[index];

    internal PiecePicker Owner { get; }

    internal Bitfield Pieces { get; }

    // Sized for a typical pipeline so picking does not allocate.
    internal List<int> RequestList { get; } = new(8);

    internal bool Removed { get; set; }
}
