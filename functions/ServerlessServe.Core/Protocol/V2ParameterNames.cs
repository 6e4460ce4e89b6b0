namespace ServerlessServe.Core.Protocol;

/// <summary>The V2 parameter names ServerlessServe understands (the binary tensor data extension's).</summary>
internal static class V2ParameterNames
{
    /// <summary>Request level, boolean: return every output in the binary section unless an output says otherwise.</summary>
    public const string BinaryDataOutput = "binary_data_output";

    /// <summary>Output level (in a request), boolean: return this output in the binary section.</summary>
    public const string BinaryData = "binary_data";

    /// <summary>Tensor level, integer: the tensor's data is this many bytes of the binary section.</summary>
    public const string BinaryDataSize = "binary_data_size";
}
