namespace ServerlessServe.Core.Protocol;

/// <summary>V2 model metadata (<c>GET /v2/models/{model}[/versions/{version}]</c>). Dynamic dimensions are -1.</summary>
public sealed record ModelMetadata
{
    public required string Name { get; init; }

    public IReadOnlyList<string> Versions { get; init; } = [];

    /// <summary>For example <c>onnxruntime_onnx</c>.</summary>
    public required string Platform { get; init; }

    public required IReadOnlyList<TensorSpec> Inputs { get; init; }

    public required IReadOnlyList<TensorSpec> Outputs { get; init; }
}
