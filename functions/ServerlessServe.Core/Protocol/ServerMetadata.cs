namespace ServerlessServe.Core.Protocol;

/// <summary>V2 server metadata (<c>GET /v2</c>).</summary>
public sealed record ServerMetadata
{
    public required string Name { get; init; }

    public required string Version { get; init; }

    /// <summary>Protocol extensions supported, for example <c>binary_tensor_data</c>.</summary>
    public IReadOnlyList<string> Extensions { get; init; } = [];
}
