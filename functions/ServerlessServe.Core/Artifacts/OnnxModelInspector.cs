using Google.Protobuf;
using Onnx;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Artifacts;

/// <summary>
/// Reads an ONNX model's protobuf without creating a session: its graph inputs and outputs as <see cref="TensorSpec"/>s
/// (symbolic or unknown dimensions as -1), and whether any tensor refers to external data. Failures are
/// <see cref="ModelVerificationException"/>s.
/// </summary>
internal static class OnnxModelInspector
{
    /// <summary>Parses <paramref name="model"/> as an ONNX <c>ModelProto</c>.</summary>
    public static ModelProto Parse(ReadOnlySpan<byte> model)
    {
        try
        {
            var proto = ModelProto.Parser.ParseFrom(model);
            if (proto.Graph is null || proto.Graph.Node.Count == 0)
            {
                throw new ModelVerificationException(ModelVerificationFailure.Model, "model has no graph");
            }

            return proto;
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new ModelVerificationException(ModelVerificationFailure.Model, "model is not a valid ONNX protobuf", ex);
        }
    }

    /// <summary>The graph's inputs (initializers excluded) and outputs.</summary>
    public static (IReadOnlyList<TensorSpec> Inputs, IReadOnlyList<TensorSpec> Outputs) Describe(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var initializers = model.Graph.Initializer.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        var inputs = model.Graph.Input.Where(i => !initializers.Contains(i.Name)).Select(ToSpec).ToList();
        var outputs = model.Graph.Output.Select(ToSpec).ToList();
        if (inputs.Count == 0 || outputs.Count == 0)
        {
            throw new ModelVerificationException(ModelVerificationFailure.Model, "model has no inputs or no outputs");
        }

        return (inputs, outputs);
    }

    /// <summary>Throws <see cref="ModelVerificationException"/> (ExternalData) when any tensor of the model refers to external data.</summary>
    public static void EnsureNoExternalData(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (HasExternalData(model))
        {
            throw new ModelVerificationException(ModelVerificationFailure.ExternalData, "model references external data");
        }
    }

    /// <summary>
    /// True when a tensor has <c>data_location: EXTERNAL</c> or <c>external_data</c> entries anywhere: initializers,
    /// sparse initializers, node attributes (Constant values and others), subgraphs, functions and training graphs.
    /// </summary>
    public static bool HasExternalData(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return (model.Graph is not null && GraphHasExternal(model.Graph))
            || model.Functions.Any(f => f.Node.Any(NodeHasExternal) || f.AttributeProto.Any(AttributeHasExternal))
            || model.TrainingInfo.Any(t => (t.Initialization is not null && GraphHasExternal(t.Initialization))
                || (t.Algorithm is not null && GraphHasExternal(t.Algorithm)));
    }

    /// <summary>Maps an ONNX element type to a V2 datatype; null for types V2 cannot carry (complex, bfloat16, float8, int4, ...).</summary>
    public static TensorDataType? ToDataType(int onnxElementType) => (TensorProto.Types.DataType)onnxElementType switch
    {
        TensorProto.Types.DataType.Float => TensorDataType.Fp32,
        TensorProto.Types.DataType.Uint8 => TensorDataType.UInt8,
        TensorProto.Types.DataType.Int8 => TensorDataType.Int8,
        TensorProto.Types.DataType.Uint16 => TensorDataType.UInt16,
        TensorProto.Types.DataType.Int16 => TensorDataType.Int16,
        TensorProto.Types.DataType.Int32 => TensorDataType.Int32,
        TensorProto.Types.DataType.Int64 => TensorDataType.Int64,
        TensorProto.Types.DataType.String => TensorDataType.Bytes,
        TensorProto.Types.DataType.Bool => TensorDataType.Bool,
        TensorProto.Types.DataType.Float16 => TensorDataType.Fp16,
        TensorProto.Types.DataType.Double => TensorDataType.Fp64,
        TensorProto.Types.DataType.Uint32 => TensorDataType.UInt32,
        TensorProto.Types.DataType.Uint64 => TensorDataType.UInt64,
        _ => null,
    };

    private static TensorSpec ToSpec(ValueInfoProto value)
    {
        if (value.Type?.TensorType is not { } tensorType)
        {
            throw new ModelVerificationException(ModelVerificationFailure.Model, "model has a non-tensor input or output");
        }

        var dataType = ToDataType(tensorType.ElemType)
            ?? throw new ModelVerificationException(ModelVerificationFailure.Model, "model uses an element type the protocol cannot carry");
        if (tensorType.Shape is null)
        {
            throw new ModelVerificationException(ModelVerificationFailure.Model, "model has an input or output of unknown rank");
        }

        var shape = tensorType.Shape.Dim
            .Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && d.DimValue > 0 ? d.DimValue : -1L)
            .ToArray();
        return new TensorSpec(value.Name, dataType, shape);
    }

    private static bool GraphHasExternal(GraphProto graph) =>
        graph.Initializer.Any(TensorIsExternal)
        || graph.SparseInitializer.Any(SparseIsExternal)
        || graph.Node.Any(NodeHasExternal);

    private static bool NodeHasExternal(NodeProto node) => node.Attribute.Any(AttributeHasExternal);

    private static bool AttributeHasExternal(AttributeProto attribute) =>
        (attribute.T is not null && TensorIsExternal(attribute.T))
        || attribute.Tensors.Any(TensorIsExternal)
        || (attribute.SparseTensor is not null && SparseIsExternal(attribute.SparseTensor))
        || attribute.SparseTensors.Any(SparseIsExternal)
        || (attribute.G is not null && GraphHasExternal(attribute.G))
        || attribute.Graphs.Any(GraphHasExternal);

    private static bool SparseIsExternal(SparseTensorProto sparse) =>
        (sparse.Values is not null && TensorIsExternal(sparse.Values)) || (sparse.Indices is not null && TensorIsExternal(sparse.Indices));

    private static bool TensorIsExternal(TensorProto tensor) =>
        tensor.DataLocation == TensorProto.Types.DataLocation.External || tensor.ExternalData.Count > 0;
}
