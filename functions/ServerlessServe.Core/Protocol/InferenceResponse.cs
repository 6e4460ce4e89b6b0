namespace ServerlessServe.Core.Protocol;

/// <summary>A V2 inference response.</summary>
public sealed class InferenceResponse
{
    private static readonly IReadOnlyDictionary<string, ParameterValue> NoParameters = new Dictionary<string, ParameterValue>();

    public required string ModelName { get; init; }

    public string? ModelVersion { get; init; }

    /// <summary>The request's id, when it had one.</summary>
    public string? Id { get; init; }

    public IReadOnlyDictionary<string, ParameterValue> Parameters { get; init; } = NoParameters;

    public required IReadOnlyList<Tensor> Outputs { get; init; }
}
