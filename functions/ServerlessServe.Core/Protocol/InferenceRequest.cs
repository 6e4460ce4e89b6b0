namespace ServerlessServe.Core.Protocol;

/// <summary>A V2 inference request: input tensors, the outputs asked for, and parameters.</summary>
public sealed class InferenceRequest
{
    private static readonly IReadOnlyDictionary<string, ParameterValue> NoParameters = new Dictionary<string, ParameterValue>();

    /// <summary>The caller's request id, echoed in the response; null when absent.</summary>
    public string? Id { get; init; }

    /// <summary>Request-level parameters (only <c>binary_data_output</c> is accepted from callers).</summary>
    public IReadOnlyDictionary<string, ParameterValue> Parameters { get; init; } = NoParameters;

    public required IReadOnlyList<Tensor> Inputs { get; init; }

    /// <summary>The outputs asked for; null means every output of the model.</summary>
    public IReadOnlyList<RequestedOutput>? Outputs { get; init; }

    /// <summary>The request-level <c>binary_data_output</c> parameter; false when absent.</summary>
    public bool BinaryDataOutput =>
        Parameters.TryGetValue(V2ParameterNames.BinaryDataOutput, out var value) && value.TryGetBoolean(out var b) && b;

    /// <summary>
    /// Whether the response should carry <paramref name="outputName"/> in the binary section: the output's own
    /// <c>binary_data</c> when the request names it with one, otherwise <see cref="BinaryDataOutput"/>.
    /// </summary>
    public bool IsBinaryOutputRequested(string outputName)
    {
        if (Outputs is not null)
        {
            foreach (var output in Outputs)
            {
                if (string.Equals(output.Name, outputName, StringComparison.Ordinal) && output.BinaryData is { } own)
                {
                    return own;
                }
            }
        }

        return BinaryDataOutput;
    }
}
