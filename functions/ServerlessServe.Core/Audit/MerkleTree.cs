using System.Numerics;

namespace ServerlessServe.Core.Audit;

/// <summary>
/// A Merkle tree (RFC 9162 §2.1) over known leaf hashes, for the verifier and for proofs: roots of every prefix, inclusion
/// proofs (§2.1.3.1) and consistency proofs (§2.1.4.1). It keeps every complete, aligned subtree (about 2n hashes), so a
/// prefix root or a proof costs O(log n) hashes after O(n) to build.
/// </summary>
public sealed class MerkleTree
{
    // _levels[h][i] = hash of the complete subtree of 2^h leaves starting at leaf i·2^h.
    private readonly List<List<byte[]>> _levels = [[]];

    /// <summary>An empty tree; <see cref="Append"/> grows it.</summary>
    public MerkleTree()
    {
    }

    /// <summary>A tree over <paramref name="leafHashes"/> (each from <see cref="MerkleHash.Leaf"/>).</summary>
    public MerkleTree(IReadOnlyList<byte[]> leafHashes)
    {
        ArgumentNullException.ThrowIfNull(leafHashes);
        foreach (var leaf in leafHashes)
        {
            Append(leaf);
        }
    }

    /// <summary>Number of leaves.</summary>
    public long Size => _levels[0].Count;

    /// <summary>The leaf hash at <paramref name="index"/>.</summary>
    public byte[] Leaf(long index) => _levels[0][checked((int)index)];

    /// <summary>Adds the next leaf hash: O(1) hashes amortised, so a kept tree follows a growing log cheaply.</summary>
    public void Append(byte[] leafHash)
    {
        ArgumentNullException.ThrowIfNull(leafHash);
        _levels[0].Add(leafHash);
        for (var height = 0; _levels[height].Count % 2 == 0; height++)
        {
            var level = _levels[height];
            if (height + 1 == _levels.Count)
            {
                _levels.Add([]);
            }

            _levels[height + 1].Add(MerkleHash.Node(level[^2], level[^1]));
        }
    }

    /// <summary>MTH of the first <paramref name="size"/> leaves.</summary>
    public byte[] Root(long size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, Size);
        return size == 0 ? MerkleHash.EmptyRoot() : Subtree(0, size);
    }

    /// <summary>PATH(m, D[n]): the inclusion proof of leaf <paramref name="index"/> in the first <paramref name="size"/> leaves.</summary>
    public IReadOnlyList<byte[]> InclusionProof(long index, long size)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, Size);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, size);
        var proof = new List<byte[]>();
        Path(index, 0, size, proof);
        return proof;
    }

    /// <summary>PROOF(m, D[n]): the consistency proof from the first <paramref name="first"/> leaves to the first <paramref name="second"/>.</summary>
    public IReadOnlyList<byte[]> ConsistencyProof(long first, long second)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(second, Size);
        ArgumentOutOfRangeException.ThrowIfLessThan(first, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(first, second);
        var proof = new List<byte[]>();
        SubProof(first, 0, second, complete: true, proof);
        return proof;
    }

    /// <summary>The largest power of two smaller than <paramref name="n"/> (n ≥ 2).</summary>
    internal static long Split(long n) => (long)BitOperations.RoundUpToPowerOf2((ulong)n) >> 1;

    /// <summary>MTH of leaves [start, start + size).</summary>
    private byte[] Subtree(long start, long size)
    {
        if (BitOperations.IsPow2(size) && start % size == 0)
        {
            var height = BitOperations.Log2((ulong)size);
            return _levels[height][(int)(start >> height)];
        }

        var k = Split(size);
        return MerkleHash.Node(Subtree(start, k), Subtree(start + k, size - k));
    }

    private void Path(long m, long start, long n, List<byte[]> proof)
    {
        if (n == 1)
        {
            return;
        }

        var k = Split(n);
        if (m < k)
        {
            Path(m, start, k, proof);
            proof.Add(Subtree(start + k, n - k));
        }
        else
        {
            Path(m - k, start + k, n - k, proof);
            proof.Add(Subtree(start, k));
        }
    }

    private void SubProof(long m, long start, long n, bool complete, List<byte[]> proof)
    {
        if (m == n)
        {
            if (!complete)
            {
                proof.Add(Subtree(start, n));
            }

            return;
        }

        var k = Split(n);
        if (m <= k)
        {
            SubProof(m, start, k, complete, proof);
            proof.Add(Subtree(start + k, n - k));
        }
        else
        {
            SubProof(m - k, start + k, n - k, complete: false, proof);
            proof.Add(Subtree(start, k));
        }
    }
}
