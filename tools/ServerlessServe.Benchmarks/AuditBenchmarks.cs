using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using ServerlessServe.Core.Audit;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Benchmarks;

/// <summary>
/// Building one audit record as the gateway does for a successful inference: pseudonymise the caller, copy the event, canonicalise and hash it
/// into the chain, and encode the JSON line that is appended to the blob.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class AuditBenchmarks
{
    private const string CallerId = "00000000-aaaa-bbbb-cccc-000000000001";
    private CallerPseudonymizer _pseudonymizer = null!;
    private AuditEvent _event = null!;
    private AuditRecord _record = null!;
    private string _prev = null!;
    private MerkleFrontier _frontier = null!;
    private MerkleFrontier _bigFrontier = null!;
    private MerkleTree _tree = null!;
    private byte[] _leaf = null!;
    private byte[] _leaf40000 = null!;
    private byte[] _root = null!;
    private IReadOnlyList<byte[]> _proof = null!;
    private ECDsa _checkpointKey = null!;
    private string _checkpointKeyId = null!;
    private AuditLeaf _auditLeaf = null!;
    private AuditReceipt _receipt = null!;

    [GlobalSetup]
    public void Setup()
    {
        _pseudonymizer = new CallerPseudonymizer(RandomNumberGenerator.GetBytes(CallerPseudonymizer.MinKeyBytes));
        _prev = Convert.ToHexStringLower(SHA256.HashData("previous record"u8));
        _event = new AuditEvent
        {
            Time = new DateTimeOffset(2025, 6, 11, 9, 30, 15, 123, TimeSpan.Zero),
            RequestId = "6f1c2b9e-4d7a-4e25-9a51-3c0d8e7f1a42",
            Caller = _pseudonymizer.Pseudonymize(CallerId),
            Operation = "infer",
            Model = CustomerNotesSample.Name,
            ModelVersion = SampleModels.Version,
            ManifestDigest = Convert.ToHexStringLower(SHA256.HashData("manifest"u8)),
            InputSha256 = Convert.ToHexStringLower(SHA256.HashData("input"u8)),
            OutputSha256 = Convert.ToHexStringLower(SHA256.HashData("output"u8)),
            Stages = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["resolve"] = "pass",
                ["validate"] = "pass",
                ["infer"] = "pass",
                ["redact"] = "pass",
            },
            Redactions = new Dictionary<string, int>(StringComparer.Ordinal) { ["EMAIL"] = 2, ["PHONE"] = 2, ["CREDIT_CARD"] = 2 },
            Outcome = AuditEvent.Released,
            LatencyMs = 3.14159,
        };
        _record = AuditRecord.Create(_event, "gateway-0", 42, _prev);
        _leaf = MerkleHash.Leaf(_record.CanonicalBytes());
        _frontier = new MerkleFrontier();
        _bigFrontier = new MerkleFrontier();
        for (var i = 0; i < 1_000_000; i++)
        {
            _frontier.Append(_leaf);
            _bigFrontier.Append(_leaf);
        }

        var leaves = Enumerable.Range(0, 65_536).Select(static i => MerkleHash.Leaf(BitConverter.GetBytes(i))).ToList();
        _tree = new MerkleTree(leaves);
        _leaf40000 = leaves[40_000];
        _root = _tree.Root(65_536);
        _proof = _tree.InclusionProof(40_000, 65_536);
        _checkpointKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        _checkpointKeyId = ServerlessServe.Core.Artifacts.KeyIds.Compute(_checkpointKey);
        _auditLeaf = new AuditLeaf("gateway-0", 42, Convert.ToHexStringLower(_leaf));
        _receipt = AuditReceipt.Sign(_record, _auditLeaf, _checkpointKey, _checkpointKeyId);
    }

    [GlobalCleanup]
    public void Cleanup() => _checkpointKey.Dispose();

    /// <summary>
    /// What a receipt adds to a request once its record is committed: the canonical statement, one ECDSA P-256 signature
    /// and the JWS encoding (target: p50 ≤ 0.2 ms).
    /// </summary>
    [Benchmark]
    public string ReceiptSign() => AuditReceipt.Sign(_record, _auditLeaf, _checkpointKey, _checkpointKeyId).Jws;

    /// <summary>Checking a receipt offline: strict parse (canonical bytes) and the signature.</summary>
    [Benchmark]
    public bool ReceiptVerify() => AuditReceipt.TryParse(_receipt.Jws, out var parsed) && parsed!.Verify([_checkpointKey]);

    /// <summary>The caller's pseudonym (HMAC-SHA256 under the audit key) that the record holds instead of the id.</summary>
    [Benchmark]
    public string PseudonymizeCaller() => _pseudonymizer.Pseudonymize(CallerId);

    /// <summary>Create copies the event and computes the chain hash (one canonical encoding + SHA-256).</summary>
    [Benchmark]
    public AuditRecord Create() => AuditRecord.Create(_event, "gateway-0", 42, _prev);

    [Benchmark]
    public string ComputeHash() => _record.ComputeHash();

    [Benchmark]
    public byte[] ToJsonLine() => _record.ToJsonLine();

    /// <summary>The record's Merkle leaf hash (SHA-256 of 0x00 and the canonical bytes): what the tree adds per record.</summary>
    [Benchmark]
    public byte[] MerkleLeaf() => MerkleHash.Leaf(_record.CanonicalBytes());

    /// <summary>Appending one leaf to the sink's frontier of a 1,000,000-leaf tree (amortised one node hash).</summary>
    [Benchmark]
    public long FrontierAppend()
    {
        _frontier.Append(_leaf);
        return _frontier.Size;
    }

    /// <summary>The root of a 1,000,000-leaf tree from its frontier (what each signed tree head costs, ~log2 n hashes).</summary>
    [Benchmark]
    public byte[] FrontierRoot() => _bigFrontier.Root();

    /// <summary>An inclusion proof (RFC 9162 §2.1.3.1) in a 65,536-leaf tree, what a receipt's proof would cost to serve.</summary>
    [Benchmark]
    public IReadOnlyList<byte[]> InclusionProof() => _tree.InclusionProof(40_000, 65_536);

    /// <summary>Checking that inclusion proof (§2.1.3.2), what an offline receipt check costs.</summary>
    [Benchmark]
    public bool VerifyInclusion() => MerkleHash.VerifyInclusion(40_000, 65_536, _leaf40000, _proof, _root);

    /// <summary>What the sink pays per request: create (with hash) and encode the line.</summary>
    [Benchmark]
    public byte[] CreateAndEncode() => AuditRecord.Create(_event, "gateway-0", 42, _prev).ToJsonLine();
}
