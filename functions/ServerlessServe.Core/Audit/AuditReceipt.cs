using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ServerlessServe.Core.Artifacts;

namespace ServerlessServe.Core.Audit;

/// <summary>
/// A signed inference receipt: the gateway's statement, signed with its audit checkpoint key, that it committed the audit
/// record of one request with these digests at this place in its Merkle log. Given to a caller who asks for it
/// (<c>x-audit-receipt: ?1</c>) in the <c>x-audit-receipt</c> response header; checked offline with the checkpoint public
/// key, and tied to the log by the inclusion proof of the same leaf (<see cref="AuditInclusionProof"/>).
/// </summary>
/// <remarks>
/// <para>Form: a JWS in compact serialisation (RFC 7515) with <c>alg</c> <c>ES256</c> (ECDSA P-256, SHA-256, the
/// signature as R‖S), so any JOSE library can check it. Protected header:
/// <c>{"alg":"ES256","kid":"…","typ":"serverlessserve-receipt+json"}</c>; <c>kid</c> is
/// <see cref="KeyIds.Compute(ECDsa)"/> of the checkpoint key, as in tree heads.</para>
/// <para>Payload (canonical JSON, the audit record's escaping, these properties in this order, each always present):
/// <c>v</c> (1), <c>requestId</c>, <c>writerId</c>, <c>seq</c>, <c>leafHash</c> (the record's RFC 9162 leaf hash),
/// <c>time</c>, <c>model</c>, <c>version</c>, <c>manifestDigest</c>, <c>inputSha256</c>, <c>outputSha256</c> (strings
/// or <c>null</c>) and <c>outcome</c> (<c>released</c> or the refusal kind). Every value is the record's own, so a
/// receipt and its record can be compared field by field (<see cref="Matches(AuditRecord)"/>).</para>
/// </remarks>
public sealed record AuditReceipt
{
    /// <summary>The payload format.</summary>
    public const int FormatVersion = 1;

    /// <summary>The header that asks for a receipt (<c>?1</c>, as an RFC 9651 boolean) and carries it back.</summary>
    public const string HeaderName = "x-audit-receipt";

    /// <summary>The JWS <c>typ</c> of a receipt.</summary>
    public const string MediaType = "serverlessserve-receipt+json";

    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    private const int MaxLength = 8192;

    private static readonly string[] PayloadProperties =
    [
        "v", "requestId", "writerId", "seq", "leafHash", "time", "model", "version", "manifestDigest", "inputSha256",
        "outputSha256", "outcome",
    ];

    public required string RequestId { get; init; }

    public required string WriterId { get; init; }

    public required long Seq { get; init; }

    /// <summary>Lowercase hex RFC 9162 leaf hash of the record's canonical bytes.</summary>
    public required string LeafHash { get; init; }

    /// <summary>The record's time (UTC, kept to 100 ns).</summary>
    public required DateTimeOffset Time { get; init; }

    public string? Model { get; init; }

    public string? ModelVersion { get; init; }

    public string? ManifestDigest { get; init; }

    public string? InputSha256 { get; init; }

    public string? OutputSha256 { get; init; }

    public required string Outcome { get; init; }

    /// <summary>Key id of the key that signed it.</summary>
    public required string KeyId { get; init; }

    /// <summary>The JWS compact serialisation (what the header carries).</summary>
    public required string Jws { get; init; }

    /// <summary>Signs the receipt of <paramref name="record"/>, committed at <paramref name="leaf"/>, with <paramref name="key"/>.</summary>
    public static AuditReceipt Sign(AuditRecord record, AuditLeaf leaf, ECDsa key, string keyId)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(leaf);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentException.ThrowIfNullOrEmpty(keyId);
        var unsigned = new AuditReceipt
        {
            RequestId = record.RequestId,
            WriterId = leaf.WriterId,
            Seq = leaf.Seq,
            LeafHash = leaf.LeafHash,
            Time = record.Time,
            Model = record.Model,
            ModelVersion = record.ModelVersion,
            ManifestDigest = record.ManifestDigest,
            InputSha256 = record.InputSha256,
            OutputSha256 = record.OutputSha256,
            Outcome = record.Outcome,
            KeyId = keyId,
            Jws = string.Empty,
        };
        var signingInput = Base64Url.EncodeToString(ProtectedHeader(keyId)) + "." + Base64Url.EncodeToString(unsigned.Payload());
        var signature = key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return unsigned with { Jws = signingInput + "." + Base64Url.EncodeToString(signature) };
    }

    /// <summary>The canonical payload bytes.</summary>
    public byte[] Payload() => new CanonicalJson().BeginObject()
        .Integer("v", FormatVersion)
        .String("requestId", RequestId)
        .String("writerId", WriterId)
        .Integer("seq", Seq)
        .String("leafHash", LeafHash)
        .String("time", Time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture))
        .String("model", Model)
        .String("version", ModelVersion)
        .String("manifestDigest", ManifestDigest)
        .String("inputSha256", InputSha256)
        .String("outputSha256", OutputSha256)
        .String("outcome", Outcome)
        .EndObject()
        .ToBytes();

    /// <summary>
    /// Parses a receipt strictly (the exact header and payload above, canonical bytes); checks no signature
    /// (<see cref="Verify"/> does).
    /// </summary>
    public static bool TryParse(string? jws, out AuditReceipt? receipt)
    {
        receipt = null;
        if (string.IsNullOrEmpty(jws) || jws.Length > MaxLength)
        {
            return false;
        }

        var parts = jws.Trim().Split('.');
        if (parts.Length != 3)
        {
            return false;
        }

        try
        {
            var header = Base64Url.DecodeFromChars(parts[0]);
            var payload = Base64Url.DecodeFromChars(parts[1]);
            using var headerDocument = JsonDocument.Parse(header);
            var h = headerDocument.RootElement;
            if (h.ValueKind != JsonValueKind.Object || h.EnumerateObject().Count() != 3
                || h.GetProperty("alg").GetString() != "ES256" || h.GetProperty("typ").GetString() != MediaType
                || h.GetProperty("kid").GetString() is not { Length: > 0 } keyId)
            {
                return false;
            }

            using var payloadDocument = JsonDocument.Parse(payload);
            var p = payloadDocument.RootElement;
            if (p.ValueKind != JsonValueKind.Object
                || !p.EnumerateObject().Select(static property => property.Name).SequenceEqual(PayloadProperties)
                || p.GetProperty("v").GetInt32() != FormatVersion)
            {
                return false;
            }

            var parsed = new AuditReceipt
            {
                RequestId = p.GetProperty("requestId").GetString()!,
                WriterId = p.GetProperty("writerId").GetString()!,
                Seq = p.GetProperty("seq").GetInt64(),
                LeafHash = p.GetProperty("leafHash").GetString()!,
                Time = DateTimeOffset.ParseExact(p.GetProperty("time").GetString()!, TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
                Model = p.GetProperty("model").GetString(),
                ModelVersion = p.GetProperty("version").GetString(),
                ManifestDigest = p.GetProperty("manifestDigest").GetString(),
                InputSha256 = p.GetProperty("inputSha256").GetString(),
                OutputSha256 = p.GetProperty("outputSha256").GetString(),
                Outcome = p.GetProperty("outcome").GetString()!,
                KeyId = keyId,
                Jws = jws.Trim(),
            };

            // Only the canonical bytes: a payload re-serialised differently is not the statement that was signed.
            if (parsed.RequestId is null || parsed.WriterId is null || parsed.LeafHash is null || parsed.Outcome is null
                || !AuditCheckpoint.IsHex64(parsed.LeafHash) || !payload.AsSpan().SequenceEqual(parsed.Payload())
                || !header.AsSpan().SequenceEqual(ProtectedHeader(keyId)))
            {
                return false;
            }

            receipt = parsed;
            return true;
        }
        catch (Exception ex) when (ex is FormatException or JsonException or InvalidOperationException or KeyNotFoundException or ArgumentException)
        {
            // ArgumentException: a null time (ParseExact's ArgumentNullException); before 2026-12-07 it escaped, and
            // `ssctl receipt verify` crashed on such a receipt instead of refusing it (found in review).
            return false;
        }
    }

    /// <summary>True when one of <paramref name="trustedKeys"/> has this receipt's key id and its signature verifies.</summary>
    public bool Verify(IEnumerable<ECDsa> trustedKeys)
    {
        ArgumentNullException.ThrowIfNull(trustedKeys);
        var dot = Jws.LastIndexOf('.');
        if (dot <= 0)
        {
            return false;
        }

        Span<byte> signature = stackalloc byte[64];
        if (Base64Url.DecodeFromChars(Jws.AsSpan(dot + 1), signature, out _, out var written) != System.Buffers.OperationStatus.Done || written != 64)
        {
            return false;
        }

        var signingInput = Encoding.ASCII.GetBytes(Jws[..dot]);
        foreach (var key in trustedKeys)
        {
            if (string.Equals(KeyIds.Compute(key), KeyId, StringComparison.Ordinal)
                && key.VerifyData(signingInput, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when <paramref name="proof"/> proves this receipt's leaf (same writer, seq and leaf hash).</summary>
    public bool Matches(AuditInclusionProof proof)
    {
        ArgumentNullException.ThrowIfNull(proof);
        return string.Equals(proof.WriterId, WriterId, StringComparison.Ordinal)
            && proof.Seq == Seq
            && string.Equals(proof.LeafHash, LeafHash, StringComparison.Ordinal);
    }

    /// <summary>True when <paramref name="record"/> is the record this receipt states: its place, leaf hash and every stated value.</summary>
    public bool Matches(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return string.Equals(record.WriterId, WriterId, StringComparison.Ordinal)
            && record.Seq == Seq
            && string.Equals(Convert.ToHexStringLower(MerkleHash.Leaf(record.CanonicalBytes())), LeafHash, StringComparison.Ordinal)
            && string.Equals(record.RequestId, RequestId, StringComparison.Ordinal)
            && record.Time == Time
            && string.Equals(record.Model, Model, StringComparison.Ordinal)
            && string.Equals(record.ModelVersion, ModelVersion, StringComparison.Ordinal)
            && string.Equals(record.ManifestDigest, ManifestDigest, StringComparison.Ordinal)
            && string.Equals(record.InputSha256, InputSha256, StringComparison.Ordinal)
            && string.Equals(record.OutputSha256, OutputSha256, StringComparison.Ordinal)
            && string.Equals(record.Outcome, Outcome, StringComparison.Ordinal);
    }

    /// <summary>
    /// Reads the request header: <c>?1</c> (or <c>1</c>) asks for a receipt, <c>?0</c> (or <c>0</c>) or no header does
    /// not; anything else is not understood (false).
    /// </summary>
    public static bool TryParseRequest(string? value, out bool requested)
    {
        requested = false;
        switch (value?.Trim())
        {
            case null or "":
            case "?0" or "0":
                return true;
            case "?1" or "1":
                requested = true;
                return true;
            default:
                return false;
        }
    }

    private static byte[] ProtectedHeader(string keyId) =>
        new CanonicalJson().BeginObject().String("alg", "ES256").String("kid", keyId).String("typ", MediaType).EndObject().ToBytes();
}
