using Google.Protobuf;
using Onnx;

namespace ServerlessServe.Local.Samples;

/// <summary>Small helpers to write ONNX graphs with the protobuf types from OnnxSharp.</summary>
internal static class OnnxBuild
{
    public const long IrVersion = 8;

    public const long Opset = 13;

    public static ModelProto Model(GraphProto graph, string docString) => new()
    {
        IrVersion = IrVersion,
        ProducerName = "ServerlessServe",
        ProducerVersion = "1",
        ModelVersion = 1,
        DocString = docString,
        OpsetImport = { new OperatorSetIdProto { Domain = string.Empty, Version = Opset } },
        Graph = graph,
    };

    /// <summary>A tensor value info; a null dimension is the symbolic <c>batch</c>.</summary>
    public static ValueInfoProto Value(string name, TensorProto.Types.DataType type, params long?[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var dim in dims)
        {
            shape.Dim.Add(dim is { } value
                ? new TensorShapeProto.Types.Dimension { DimValue = value }
                : new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }

    public static NodeProto Node(string opType, string name, string[] inputs, string[] outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = name };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        return node;
    }

    public static AttributeProto IntAttribute(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static TensorProto FloatTensor(string name, float[] values, params long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        tensor.FloatData.AddRange(values);
        return tensor;
    }

    public static TensorProto StringTensor(string name, IReadOnlyList<string> values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.String };
        tensor.Dims.Add(values.Count);
        tensor.StringData.AddRange(values.Select(ByteString.CopyFromUtf8));
        return tensor;
    }
}
