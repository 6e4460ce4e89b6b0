using System.Text.Json;
using System.Text.Json.Serialization;
using ServerlessServe.Core.Policy;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Artifacts;

/// <summary>
/// <c>manifest.json</c>: camelCase JSON, written indented with files in ordinal order, read strictly (unknown, duplicate or
/// missing properties refused) and checked for well-formed names, digests and tensor specs.
/// </summary>
internal static class ManifestJson
{
    /// <summary>Largest accepted <c>manifest.json</c>: 1 MiB.</summary>
    public const int MaxManifestBytes = 1 << 20;

    /// <summary>The file names a manifest must pin.</summary>
    public static IReadOnlyList<string> RequiredFiles { get; } = [ModelStoreLayout.ModelFile, ModelStoreLayout.PolicyFile];

    /// <summary>The file names a manifest may pin besides the required ones.</summary>
    public static IReadOnlyList<string> OptionalFiles { get; } = [ModelStoreLayout.ProfileFile];

    private static readonly JsonSerializerOptions Options = CreateOptions();

    public static byte[] Serialize(ModelManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        Check(manifest);
        var ordered = manifest with
        {
            Files = new SortedDictionary<string, ManifestFile>(manifest.Files.ToDictionary(f => f.Key, f => f.Value), StringComparer.Ordinal),
        };
        return JsonSerializer.SerializeToUtf8Bytes(ordered, Options);
    }

    /// <summary>Parses and checks manifest bytes; throws <see cref="ModelVerificationException"/> (Manifest) when they are not a valid manifest.</summary>
    public static ModelManifest Parse(ReadOnlySpan<byte> utf8Json)
    {
        if (utf8Json.Length > MaxManifestBytes)
        {
            throw Invalid("manifest is larger than 1 MiB");
        }

        ModelManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<ModelManifest>(utf8Json, Options);
        }
        catch (JsonException)
        {
            throw Invalid("manifest is not valid manifest JSON");
        }

        if (manifest is null)
        {
            throw Invalid("manifest is null");
        }

        Check(manifest);
        return manifest;
    }

    private static void Check(ModelManifest manifest)
    {
        if (manifest.SchemaVersion != ModelManifest.CurrentSchemaVersion)
        {
            throw Invalid("unsupported manifest schema version");
        }

        if (manifest.Platform != "onnxruntime_onnx")
        {
            throw Invalid("unsupported platform");
        }

        if (!ModelNames.IsValidName(manifest.Name) || !ModelNames.IsValidVersion(manifest.Version))
        {
            throw Invalid("invalid name or version");
        }

        if (!KeyIds.IsWellFormed(manifest.SignerKeyId))
        {
            throw Invalid("invalid signer key id");
        }

        if (manifest.Created.Offset != TimeSpan.Zero || manifest.Created.UtcTicks % TimeSpan.TicksPerSecond != 0)
        {
            throw Invalid("created must be UTC, in whole seconds");
        }

        if (RequiredFiles.Any(f => !manifest.Files.ContainsKey(f)) || manifest.Files.Keys.Any(f => !RequiredFiles.Contains(f) && !OptionalFiles.Contains(f)))
        {
            throw Invalid("manifest must pin model.onnx and policy.json, and may pin only profile.json besides");
        }

        foreach (var file in manifest.Files.Values)
        {
            if (file is null || file.Size < 0 || file.Sha256 is not { Length: 64 } || !file.Sha256.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                throw Invalid("invalid file digest or size");
            }
        }

        CheckSpecs(manifest.Inputs, "inputs", requireAny: true);
        CheckSpecs(manifest.Outputs, "outputs", requireAny: true);
    }

    private static void CheckSpecs(IReadOnlyList<TensorSpec> specs, string what, bool requireAny)
    {
        if (requireAny && specs.Count == 0)
        {
            throw Invalid($"manifest lists no {what}");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var spec in specs)
        {
            if (spec is null || string.IsNullOrEmpty(spec.Name) || spec.Name.Length > 256 || !names.Add(spec.Name)
                || !Enum.IsDefined(spec.DataType) || spec.Shape.Length > 32 || spec.Shape.Any(d => d < -1))
            {
                throw Invalid($"invalid {what}");
            }
        }
    }

    private static ModelVerificationException Invalid(string message) => new(ModelVerificationFailure.Manifest, message);

    private static JsonSerializerOptions CreateOptions() => StrictJson.Create(
        JsonIgnoreCondition.Never,
        new WireEnumConverter<TensorDataType>(Enum.GetValues<TensorDataType>().ToDictionary(t => t, t => t.ToWire())));
}
