namespace ServerlessServe.Core.Protocol;

/// <summary>
/// A declared model input or output: name, datatype and shape, where -1 is a dynamic dimension.
/// Used by the signed manifest, model metadata and request validation.
/// </summary>
public sealed record TensorSpec(string Name, TensorDataType DataType, long[] Shape);
