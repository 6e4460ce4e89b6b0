using System.Security.Cryptography;
using ServerlessServe.Core.Audit;

namespace ServerlessServe.Core.Tests.Audit;

/// <summary>
/// RFC 6962 / 9162 Merkle hashing, inclusion and consistency proofs. Known answers are the Certificate Transparency test
/// data (eight leaves), recomputed independently with Python's hashlib from the RFC definitions; every size 1..64 is
/// checked against a naive recursive implementation of the RFC text.
/// </summary>
public class MerkleTreeTests
{
    private static readonly byte[][] CtLeaves =
    [
        [],
        [0x00],
        [0x10],
        [0x20, 0x21],
        [0x30, 0x31],
        [0x40, 0x41, 0x42, 0x43],
        [0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
        [0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f],
    ];

    private static readonly string[] CtRoots =
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    [Fact]
    public void EmptyRoot_IsSha256OfNothing()
    {
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Hex(MerkleHash.EmptyRoot()));
        Assert.Equal(Hex(MerkleHash.EmptyRoot()), Hex(new MerkleTree([]).Root(0)));
        Assert.Equal(Hex(MerkleHash.EmptyRoot()), Hex(new MerkleFrontier().Root()));
    }

    [Fact]
    public void Leaf_EmptyLeaf_IsSha256OfZeroByte()
    {
        Assert.Equal("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", Hex(MerkleHash.Leaf([])));
    }

    [Fact]
    public void Root_CtTestData_PublishedRootsForSizes1To8()
    {
        var tree = new MerkleTree(CtLeaves.Select(static l => MerkleHash.Leaf(l)).ToList());
        var frontier = new MerkleFrontier();
        for (var n = 1; n <= 8; n++)
        {
            frontier.Append(MerkleHash.Leaf(CtLeaves[n - 1]));
            Assert.Equal(CtRoots[n - 1], Hex(tree.Root(n)));
            Assert.Equal(CtRoots[n - 1], Hex(frontier.Root()));
        }
    }

    [Theory]
    [InlineData(0, 8, "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7 5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e 6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")]
    [InlineData(5, 8, "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0 d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]
    [InlineData(2, 3, "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]
    public void InclusionProof_CtTestData_KnownPaths(int index, int size, string expected)
    {
        var tree = new MerkleTree(CtLeaves.Select(static l => MerkleHash.Leaf(l)).ToList());

        var proof = tree.InclusionProof(index, size);

        Assert.Equal(expected.Split(' '), proof.Select(Hex));
        Assert.True(MerkleHash.VerifyInclusion(index, size, MerkleHash.Leaf(CtLeaves[index]), proof, Convert.FromHexString(CtRoots[size - 1])));
    }

    [Theory]
    [InlineData(1, 8, "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7 5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e 6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")]
    [InlineData(6, 8, "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0 d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]
    [InlineData(2, 5, "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")]
    [InlineData(3, 7, "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7 07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7 fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125 837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e")]
    public void ConsistencyProof_CtTestData_KnownProofs(int first, int second, string expected)
    {
        var tree = new MerkleTree(CtLeaves.Select(static l => MerkleHash.Leaf(l)).ToList());

        var proof = tree.ConsistencyProof(first, second);

        Assert.Equal(expected.Split(' '), proof.Select(Hex));
        Assert.True(MerkleHash.VerifyConsistency(first, second, Convert.FromHexString(CtRoots[first - 1]), Convert.FromHexString(CtRoots[second - 1]), proof));
    }

    [Fact]
    public void EverySize1To64_RootsAndProofsMatchTheNaiveDefinitionAndVerify()
    {
        var leaves = Enumerable.Range(0, 64).Select(static i => MerkleHash.Leaf([(byte)i, (byte)(i * 7)])).ToList();
        var tree = new MerkleTree(leaves);
        var frontier = new MerkleFrontier();
        for (var n = 1; n <= 64; n++)
        {
            frontier.Append(leaves[n - 1]);
            var prefix = leaves.Take(n).ToList();
            var root = NaiveRoot(prefix);
            Assert.Equal(Hex(root), Hex(tree.Root(n)));
            Assert.Equal(Hex(root), Hex(frontier.Root()));
            for (var m = 0; m < n; m++)
            {
                var path = tree.InclusionProof(m, n);
                Assert.Equal(NaivePath(m, prefix).Select(Hex), path.Select(Hex));
                Assert.True(MerkleHash.VerifyInclusion(m, n, leaves[m], path, root), $"inclusion {m} in {n}");
                Assert.False(MerkleHash.VerifyInclusion(m, n, leaves[(m + 1) % 64], path, root), $"wrong leaf {m} in {n}");
                if (n > 1)
                {
                    Assert.False(MerkleHash.VerifyInclusion((m + 1) % n, n, leaves[m], path, root), $"wrong index {m} in {n}");
                }
            }

            for (var m = 1; m <= n; m++)
            {
                var proof = tree.ConsistencyProof(m, n);
                Assert.Equal(NaiveSubProof(m, prefix, true).Select(Hex), proof.Select(Hex));
                var firstRoot = NaiveRoot(leaves.Take(m).ToList());
                Assert.True(MerkleHash.VerifyConsistency(m, n, firstRoot, root, proof), $"consistency {m} to {n}");
                if (m < n)
                {
                    // A first tree whose leaf changed is not a prefix of the second.
                    var changed = leaves.Take(m).ToList();
                    changed[m - 1] = MerkleHash.Leaf([0xff]);
                    Assert.False(MerkleHash.VerifyConsistency(m, n, NaiveRoot(changed), root, proof), $"forged first root {m} to {n}");
                    Assert.False(MerkleHash.VerifyConsistency(m, n, firstRoot, MerkleHash.EmptyRoot(), proof), $"forged second root {m} to {n}");
                }
            }
        }
    }

    [Fact]
    public void VerifyConsistency_EqualSizesOrEmptyFirst_OnlyEqualRootsWithEmptyProof()
    {
        var root = Convert.FromHexString(CtRoots[3]);
        Assert.True(MerkleHash.VerifyConsistency(4, 4, root, root, []));
        Assert.False(MerkleHash.VerifyConsistency(4, 4, root, Convert.FromHexString(CtRoots[4]), []));
        Assert.False(MerkleHash.VerifyConsistency(4, 4, root, root, [root]));
        Assert.False(MerkleHash.VerifyConsistency(0, 4, MerkleHash.EmptyRoot(), root, []));
        Assert.False(MerkleHash.VerifyConsistency(5, 4, root, root, []));
    }

    private static string Hex(byte[] hash) => Convert.ToHexStringLower(hash);

    // RFC 9162 §2.1.1 literally: MTH(D[n]) = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n])), k the largest power of 2 below n.
    private static byte[] NaiveRoot(List<byte[]> d)
    {
        if (d.Count == 0)
        {
            return SHA256.HashData(ReadOnlySpan<byte>.Empty);
        }

        if (d.Count == 1)
        {
            return d[0];
        }

        var k = K(d.Count);
        return SHA256.HashData([0x01, .. NaiveRoot(d[..k]), .. NaiveRoot(d[k..])]);
    }

    private static List<byte[]> NaivePath(int m, List<byte[]> d)
    {
        if (d.Count == 1)
        {
            return [];
        }

        var k = K(d.Count);
        return m < k ? [.. NaivePath(m, d[..k]), NaiveRoot(d[k..])] : [.. NaivePath(m - k, d[k..]), NaiveRoot(d[..k])];
    }

    private static List<byte[]> NaiveSubProof(int m, List<byte[]> d, bool b)
    {
        if (m == d.Count)
        {
            return b ? [] : [NaiveRoot(d)];
        }

        var k = K(d.Count);
        return m <= k ? [.. NaiveSubProof(m, d[..k], b), NaiveRoot(d[k..])] : [.. NaiveSubProof(m - k, d[k..], false), NaiveRoot(d[..k])];
    }

    private static int K(int n)
    {
        var k = 1;
        while (k * 2 < n)
        {
            k *= 2;
        }

        return k;
    }
}
