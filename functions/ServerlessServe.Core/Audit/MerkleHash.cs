using System.Numerics;
using System.Security.Cryptography;

namespace ServerlessServe.Core.Audit;

/// <summary>
/// Merkle tree hashing and proof verification of RFC 9162 (Certificate Transparency v2) §2.1, over SHA-256:
/// leaf hash = SHA-256(0x00 ‖ leaf), node hash = SHA-256(0x01 ‖ left ‖ right), the empty tree's hash is SHA-256 of
/// nothing. The verification algorithms are §2.1.3.2 (inclusion) and §2.1.4.2 (consistency); they need only the two
/// tree sizes, the hashes and the proof, not the leaves.
/// </summary>
public static class MerkleHash
{
    /// <summary>Length of every hash, in bytes.</summary>
    public const int Size = 32;

    /// <summary>MTH({}) = SHA-256 of the empty string.</summary>
    public static byte[] EmptyRoot() => SHA256.HashData(ReadOnlySpan<byte>.Empty);

    /// <summary>MTH({d}) = SHA-256(0x00 ‖ d).</summary>
    public static byte[] Leaf(ReadOnlySpan<byte> data)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData([0x00]);
        hash.AppendData(data);
        return hash.GetHashAndReset();
    }

    /// <summary>SHA-256(0x01 ‖ left ‖ right).</summary>
    public static byte[] Node(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        Span<byte> buffer = stackalloc byte[1 + (2 * Size)];
        buffer[0] = 0x01;
        left.CopyTo(buffer[1..]);
        right.CopyTo(buffer[(1 + Size)..]);
        return SHA256.HashData(buffer);
    }

    /// <summary>
    /// RFC 9162 §2.1.3.2: true when <paramref name="proof"/> shows that <paramref name="leafHash"/> is leaf
    /// <paramref name="index"/> (0-based) of the tree of <paramref name="treeSize"/> leaves with root <paramref name="root"/>.
    /// </summary>
    public static bool VerifyInclusion(long index, long treeSize, ReadOnlySpan<byte> leafHash, IReadOnlyList<byte[]> proof, ReadOnlySpan<byte> root)
    {
        ArgumentNullException.ThrowIfNull(proof);
        if (index < 0 || index >= treeSize || leafHash.Length != Size)
        {
            return false;
        }

        var fn = index;
        var sn = treeSize - 1;
        var r = leafHash.ToArray();
        foreach (var p in proof)
        {
            if (sn == 0 || p is not { Length: Size })
            {
                return false;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                r = Node(p, r);
                if ((fn & 1) == 0)
                {
                    // Right-shift until the LSB of fn is set or fn is 0.
                    while ((fn & 1) == 0 && fn != 0)
                    {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            }
            else
            {
                r = Node(r, p);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return sn == 0 && CryptographicOperations.FixedTimeEquals(r, root);
    }

    /// <summary>
    /// RFC 9162 §2.1.4.2: true when <paramref name="proof"/> shows that the tree of <paramref name="firstSize"/> leaves
    /// with root <paramref name="firstRoot"/> is a prefix of the tree of <paramref name="secondSize"/> leaves with root
    /// <paramref name="secondRoot"/>. Equal sizes need an empty proof and equal roots; a first size of 0 is refused
    /// (RFC 9162 defines no proof from the empty tree).
    /// </summary>
    public static bool VerifyConsistency(long firstSize, long secondSize, ReadOnlySpan<byte> firstRoot, ReadOnlySpan<byte> secondRoot, IReadOnlyList<byte[]> proof)
    {
        ArgumentNullException.ThrowIfNull(proof);
        if (firstSize < 1 || firstSize > secondSize || firstRoot.Length != Size || secondRoot.Length != Size)
        {
            return false;
        }

        if (firstSize == secondSize)
        {
            return proof.Count == 0 && CryptographicOperations.FixedTimeEquals(firstRoot, secondRoot);
        }

        // 1. When first is an exact power of 2, the proof starts with first_hash itself.
        var path = new List<byte[]>(proof.Count + 1);
        if (BitOperations.IsPow2(firstSize))
        {
            path.Add(firstRoot.ToArray());
        }

        path.AddRange(proof);
        if (path.Count == 0 || path.Any(static p => p is not { Length: Size }))
        {
            return false;
        }

        // 2.-3.
        var fn = firstSize - 1;
        var sn = secondSize - 1;
        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }

        // 4.
        var fr = path[0];
        var sr = path[0];

        // 5.
        for (var i = 1; i < path.Count; i++)
        {
            var c = path[i];
            if (sn == 0)
            {
                return false;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                fr = Node(c, fr);
                sr = Node(c, sr);
                if ((fn & 1) == 0)
                {
                    while ((fn & 1) == 0 && fn != 0)
                    {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            }
            else
            {
                sr = Node(sr, c);
            }

            fn >>= 1;
            sn >>= 1;
        }

        // 6.
        return sn == 0 && CryptographicOperations.FixedTimeEquals(fr, firstRoot) && CryptographicOperations.FixedTimeEquals(sr, secondRoot);
    }
}
