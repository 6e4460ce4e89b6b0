using System.Text.Json;
using System.Text.Json.Serialization;
using ServerlessServe.Core.Policy;

namespace ServerlessServe.Core.Artifacts.Lifecycle;

/// <summary>
/// Lifecycle documents and revocation lists as JSON: camelCase, written indented with versions in natural order, read
/// strictly (unknown, repeated or missing properties, comments and trailing commas refused; at most 1 MiB) and checked.
/// </summary>
public static class ControlJson
{
    /// <summary>Largest accepted document: 1 MiB.</summary>
    public const int MaxDocumentBytes = 1 << 20;

    private static readonly JsonSerializerOptions Options = CreateOptions();

    public static byte[] Serialize(ModelLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        Check(lifecycle);
        var ordered = lifecycle with { Versions = new SortedDictionary<string, VersionLifecycle>(lifecycle.Versions.ToDictionary(), VersionComparer.Instance) };
        return JsonSerializer.SerializeToUtf8Bytes(ordered, Options);
    }

    public static byte[] Serialize(RevocationList revocations)
    {
        ArgumentNullException.ThrowIfNull(revocations);
        Check(revocations);
        return JsonSerializer.SerializeToUtf8Bytes(revocations, Options);
    }

    /// <summary>Parses and checks a lifecycle document; throws <see cref="ControlDocumentException"/> when it is not one.</summary>
    public static ModelLifecycle ParseLifecycle(ReadOnlySpan<byte> utf8Json)
    {
        var lifecycle = Deserialize<ModelLifecycle>(utf8Json);
        Check(lifecycle);
        return lifecycle;
    }

    /// <summary>Parses and checks a revocation list; throws <see cref="ControlDocumentException"/> when it is not one.</summary>
    public static RevocationList ParseRevocations(ReadOnlySpan<byte> utf8Json)
    {
        var revocations = Deserialize<RevocationList>(utf8Json);
        Check(revocations);
        return revocations;
    }

    private static T Deserialize<T>(ReadOnlySpan<byte> utf8Json)
        where T : class
    {
        if (utf8Json.Length > MaxDocumentBytes)
        {
            throw new ControlDocumentException("document is larger than 1 MiB");
        }

        try
        {
            return JsonSerializer.Deserialize<T>(utf8Json, Options) ?? throw new ControlDocumentException("document is null");
        }
        catch (JsonException ex)
        {
            throw new ControlDocumentException("document is not valid JSON of its kind", ex);
        }
    }

    private static void Check(ModelLifecycle lifecycle)
    {
        CheckHeader(lifecycle.SchemaVersion, ModelLifecycle.CurrentSchemaVersion, lifecycle.Sequence, lifecycle.Issued, lifecycle.SignerKeyId);
        if (!ModelNames.IsValidName(lifecycle.Name))
        {
            throw new ControlDocumentException("invalid model name");
        }

        if (lifecycle.Versions is null)
        {
            throw new ControlDocumentException("versions missing");
        }

        foreach (var (version, entry) in lifecycle.Versions)
        {
            if (!ModelNames.IsValidVersion(version) || entry is null)
            {
                throw new ControlDocumentException("invalid version");
            }

            var dated = entry.Since is not null || entry.Until is not null;
            var valid = entry.State switch
            {
                VersionState.Deprecated => entry.Since is { } since && entry.Until is { } until && IsWholeSecondUtc(since) && IsWholeSecondUtc(until) && until > since,
                VersionState.Retired => !dated,
                _ => false,
            };
            if (!valid)
            {
                throw new ControlDocumentException("a version entry must be deprecated (with since < until) or retired (without dates)");
            }
        }

        if (lifecycle.Default is { } defaultVersion
            && (!ModelNames.IsValidVersion(defaultVersion) || lifecycle.Versions.ContainsKey(defaultVersion)))
        {
            throw new ControlDocumentException("the default version must be a valid version that is neither deprecated nor retired");
        }
    }

    private static void Check(RevocationList revocations)
    {
        CheckHeader(revocations.SchemaVersion, RevocationList.CurrentSchemaVersion, revocations.Sequence, revocations.Issued, revocations.SignerKeyId);
        if (revocations.Versions is null || revocations.Signers is null)
        {
            throw new ControlDocumentException("versions or signers missing");
        }

        foreach (var revoked in revocations.Versions)
        {
            if (revoked is null || !ModelNames.IsValidName(revoked.Name) || !ModelNames.IsValidVersion(revoked.Version) || !IsSha256Hex(revoked.ManifestSha256))
            {
                throw new ControlDocumentException("invalid revoked version");
            }
        }

        if (revocations.Signers.Any(k => !KeyIds.IsWellFormed(k)) || revocations.Signers.Distinct(StringComparer.Ordinal).Count() != revocations.Signers.Count)
        {
            throw new ControlDocumentException("invalid or repeated revoked signer");
        }
    }

    private static void CheckHeader(int schemaVersion, int expectedSchema, long sequence, DateTimeOffset issued, string signerKeyId)
    {
        if (schemaVersion != expectedSchema)
        {
            throw new ControlDocumentException("unsupported schema version");
        }

        if (sequence < 1 || sequence > MaxSequence)
        {
            throw new ControlDocumentException("sequence out of range");
        }

        if (!IsWholeSecondUtc(issued))
        {
            throw new ControlDocumentException("issued must be UTC in whole seconds");
        }

        if (!KeyIds.IsWellFormed(signerKeyId))
        {
            throw new ControlDocumentException("invalid signer key id");
        }
    }

    /// <summary>The largest sequence number: twelve decimal digits, the width of the blob names.</summary>
    public const long MaxSequence = 999_999_999_999;

    private static bool IsWholeSecondUtc(DateTimeOffset time) => time.Offset == TimeSpan.Zero && time.Ticks % TimeSpan.TicksPerSecond == 0;

    private static bool IsSha256Hex(string? digest) =>
        digest is { Length: 64 } && digest.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));

    private static JsonSerializerOptions CreateOptions() => StrictJson.Create(
        JsonIgnoreCondition.WhenWritingNull,
        new WireEnumConverter<VersionState>(new Dictionary<VersionState, string>
        {
            [VersionState.Active] = "active",
            [VersionState.Deprecated] = "deprecated",
            [VersionState.Retired] = "retired",
        }));
}
