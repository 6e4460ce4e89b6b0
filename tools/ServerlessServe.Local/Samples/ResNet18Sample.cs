using System.Security.Cryptography;
using Google.Protobuf;
using Onnx;

namespace ServerlessServe.Local.Samples;

/// <summary>
/// The realistic sample: ResNet18 (ImageNet features, ONNX opset 8, ~64 MB) as shipped in the NuGet package
/// <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c> under <c>tools/DnnImageModels/ResNet18Onnx/ResNet18.onnx</c>.
/// Input <c>Input247</c> FP32 [1, 3, 224, 224] (preprocessed image), output <c>Pooling395_Output_0</c> FP32 [1, 512, 1, 1].
/// The file is pinned by SHA-256, so a different file is never published as this sample. What is published is that file
/// with its batch dimension made symbolic (<see cref="WithDynamicBatch"/>), so the inference app can batch requests.
/// </summary>
public static class ResNet18Sample
{
    public const string Name = "resnet18";

    public const string PackageId = "microsoft.ml.dnnimagefeaturizer.resnet18";

    /// <summary>The package version pinned in Directory.Packages.props.</summary>
    public const string PackageVersion = "0.23.1";

    public const string InputName = "Input247";

    public const string OutputName = "Pooling395_Output_0";

    /// <summary>SHA-256 of ResNet18.onnx in package version 0.23.1.</summary>
    public const string Sha256 = "e2552f19db2dfdb01b3669537b6a0f1b44da38d18279535492ed5dfc2ef1ff8f";

    /// <summary>Path of the model inside the package folder.</summary>
    public static string RelativePath { get; } = Path.Combine("tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");

    /// <summary>Environment variable that, when set, names the ResNet18.onnx file to use.</summary>
    public const string PathVariable = "SERVERLESSSERVE_RESNET18_ONNX";

    /// <summary>
    /// Finds ResNet18.onnx: <see cref="PathVariable"/>; next to the running app (<c>DnnImageModels/ResNet18Onnx</c>, where
    /// the package's build props copy it when referenced with content); the NuGet packages folder
    /// (<c>NUGET_PACKAGES</c>, else <c>~/.nuget/packages</c>). Null when none exists.
    /// </summary>
    public static string? Find()
    {
        foreach (var candidate in Candidates())
        {
            if (File.Exists(candidate))
            {
                return Path.GetFullPath(candidate);
            }
        }

        return null;
    }

    /// <summary>Reads the file and checks it is the pinned ResNet18.onnx; throws <see cref="InvalidDataException"/> otherwise.</summary>
    public static async Task<byte[]> ReadVerifiedAsync(string path, CancellationToken cancellationToken = default)
    {
        var bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        if (Convert.ToHexStringLower(SHA256.HashData(bytes)) != Sha256)
        {
            throw new InvalidDataException("The file found as ResNet18.onnx is not the pinned model.");
        }

        return bytes;
    }

    /// <summary>
    /// The pinned model with a symbolic first dimension (<c>batch</c>) on its input and output instead of the fixed 1, and
    /// without the graph's intermediate shape annotations (which also fix the batch at 1; ONNX Runtime infers them again).
    /// Nodes, weights and opset are untouched: the network is convolutions, batch normalisation, pooling and additions,
    /// none of which mixes rows, so each row of a batch gives the features that row gives alone. Deterministic: the same
    /// input bytes give the same output bytes.
    /// </summary>
    public static byte[] WithDynamicBatch(byte[] pinned)
    {
        ArgumentNullException.ThrowIfNull(pinned);
        var model = ModelProto.Parser.ParseFrom(pinned);
        var graph = model.Graph;
        if (graph.Node.Any(n => n.OpType is "Reshape" or "Flatten" or "Gemm" or "MatMul"))
        {
            throw new InvalidDataException("The model has nodes that may fix or mix the batch dimension.");
        }

        foreach (var value in graph.Input.Concat(graph.Output))
        {
            var first = value.Type.TensorType.Shape.Dim[0];
            if (first.DimValue != 1)
            {
                throw new InvalidDataException($"'{value.Name}' does not have a batch dimension of 1.");
            }

            first.ClearDimValue();
            first.DimParam = "batch";
        }

        graph.ValueInfo.Clear();
        return model.ToByteArray();
    }

    private static IEnumerable<string> Candidates()
    {
        if (Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } explicitPath)
        {
            yield return explicitPath;
        }

        yield return Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");

        if (Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } packages)
        {
            yield return Path.Combine(packages, PackageId, PackageVersion, RelativePath);
        }

        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (!string.IsNullOrEmpty(home))
        {
            yield return Path.Combine(home, ".nuget", "packages", PackageId, PackageVersion, RelativePath);
        }
    }
}
