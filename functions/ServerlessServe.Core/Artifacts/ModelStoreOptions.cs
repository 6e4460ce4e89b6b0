using System.ComponentModel.DataAnnotations;

namespace ServerlessServe.Core.Artifacts;

/// <summary>Limits and transfer settings of the <see cref="ModelStore"/>. Bound from <c>ServerlessServe:Models</c>.</summary>
public sealed class ModelStoreOptions
{
    public const string SectionName = "ServerlessServe:Models";

    /// <summary>Blob container holding the models. Default <c>models</c>.</summary>
    [Required]
    [RegularExpression("^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")]
    public string Container { get; set; } = ModelStoreLayout.DefaultContainerName;

    /// <summary>Largest model.onnx loaded into memory. Default 2,000,000,000 bytes (the protobuf limit is 2 GiB).</summary>
    [Range(1, int.MaxValue)]
    public long MaxModelBytes { get; set; } = 2_000_000_000;

    /// <summary>Block size for uploads larger than one block. Default 4 MiB.</summary>
    [Range(64 * 1024, 100 * 1024 * 1024)]
    public int UploadBlockBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Blocks uploaded in parallel. Default 2.</summary>
    [Range(1, 16)]
    public int UploadConcurrency { get; set; } = 2;

    /// <summary>PEM public keys of trusted model signers. No default: an empty list trusts nothing, so no model is served.</summary>
    public List<string> TrustedSignerPems { get; set; } = [];
}
