namespace ServerlessServe.Core.Audit;

/// <summary>
/// The right frontier (compact range) of a Merkle tree: the roots of the complete subtrees that the binary decomposition
/// of its size gives, at most log2(n) + 1 hashes. Appending a leaf costs O(log n) hashes amortised O(1); the root
/// (RFC 9162 MTH) folds the frontier from the right. What the audit sink keeps in memory instead of the tree.
/// </summary>
public sealed class MerkleFrontier
{
    private readonly List<(byte[] Hash, int Height)> _nodes = [];

    /// <summary>Number of leaves appended.</summary>
    public long Size { get; private set; }

    /// <summary>Appends a leaf hash (from <see cref="MerkleHash.Leaf"/>).</summary>
    public void Append(byte[] leafHash)
    {
        ArgumentNullException.ThrowIfNull(leafHash);
        var hash = leafHash;
        var height = 0;
        while (_nodes.Count > 0 && _nodes[^1].Height == height)
        {
            hash = MerkleHash.Node(_nodes[^1].Hash, hash);
            _nodes.RemoveAt(_nodes.Count - 1);
            height++;
        }

        _nodes.Add((hash, height));
        Size++;
    }

    /// <summary>MTH of the leaves appended so far.</summary>
    public byte[] Root()
    {
        if (_nodes.Count == 0)
        {
            return MerkleHash.EmptyRoot();
        }

        var root = _nodes[^1].Hash;
        for (var i = _nodes.Count - 2; i >= 0; i--)
        {
            root = MerkleHash.Node(_nodes[i].Hash, root);
        }

        return root;
    }

    /// <summary>Forgets every leaf.</summary>
    public void Clear()
    {
        _nodes.Clear();
        Size = 0;
    }
}
