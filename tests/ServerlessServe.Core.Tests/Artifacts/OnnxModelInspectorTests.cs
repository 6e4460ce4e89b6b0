using Google.Protobuf;
using Onnx;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Tests.Artifacts;

public sealed class OnnxModelInspectorTests
{
    [Fact]
    public void Describe_CreditRisk_ReadsNamesTypesAndSymbolicDims()
    {
        var (inputs, outputs) = OnnxModelInspector.Describe(OnnxModelInspector.Parse(TestPackages.CreditRiskModel));

        var input = Assert.Single(inputs);
        Assert.Equal(("features", TensorDataType.Fp32), (input.Name, input.DataType));
        Assert.Equal([-1L, 4L], input.Shape);
        var output = Assert.Single(outputs);
        Assert.Equal(("probabilities", TensorDataType.Fp32), (output.Name, output.DataType));
        Assert.Equal([-1L, 3L], output.Shape);
    }

    [Fact]
    public void Describe_CustomerNotes_MapsStringToBytes()
    {
        var (inputs, outputs) = OnnxModelInspector.Describe(OnnxModelInspector.Parse(TestPackages.CustomerNotesModel));

        var input = Assert.Single(inputs);
        Assert.Equal(("customer_id", TensorDataType.Int64), (input.Name, input.DataType));
        Assert.Equal([-1L], input.Shape);
        Assert.Equal(TensorDataType.Bytes, outputs.Single().DataType);
        Assert.Equal("note", outputs.Single().Name);
    }

    [Fact]
    public void Parse_NotOnnx_RefusedAsModelFailure()
    {
        var error = Assert.Throws<ModelVerificationException>(() => OnnxModelInspector.Parse("definitely not a protobuf model"u8));

        Assert.Equal(ModelVerificationFailure.Model, error.Failure);
    }

    [Fact]
    public void HasExternalData_SampleModels_False()
    {
        Assert.False(OnnxModelInspector.HasExternalData(OnnxModelInspector.Parse(TestPackages.CreditRiskModel)));
        Assert.False(OnnxModelInspector.HasExternalData(OnnxModelInspector.Parse(TestPackages.CustomerNotesModel)));
    }

    [Fact]
    public void HasExternalData_ExternalInitializer_True()
    {
        var model = OnnxModelInspector.Parse(TestPackages.CreditRiskWithExternalWeights());

        Assert.True(OnnxModelInspector.HasExternalData(model));
        Assert.Equal(ModelVerificationFailure.ExternalData, Assert.Throws<ModelVerificationException>(() => OnnxModelInspector.EnsureNoExternalData(model)).Failure);
    }

    [Fact]
    public void HasExternalData_DataLocationOnlyOnConstantNode_True()
    {
        var model = ModelProto.Parser.ParseFrom(TestPackages.CreditRiskModel);
        model.Graph.Node.Insert(0, new NodeProto
        {
            OpType = "Constant",
            Output = { "unused_constant" },
            Attribute =
            {
                new AttributeProto
                {
                    Name = "value",
                    Type = AttributeProto.Types.AttributeType.Tensor,
                    T = new TensorProto { DataType = (int)TensorProto.Types.DataType.Float, Dims = { 1 }, DataLocation = TensorProto.Types.DataLocation.External },
                },
            },
        });

        Assert.True(OnnxModelInspector.HasExternalData(OnnxModelInspector.Parse(model.ToByteArray())));
    }

    [Fact]
    public void HasExternalData_InsideIfSubgraph_True()
    {
        var model = ModelProto.Parser.ParseFrom(TestPackages.CreditRiskModel);
        var branch = new GraphProto
        {
            Name = "then_branch",
            Initializer =
            {
                new TensorProto
                {
                    Name = "hidden",
                    DataType = (int)TensorProto.Types.DataType.Float,
                    Dims = { 1 },
                    ExternalData = { new StringStringEntryProto { Key = "location", Value = "../../etc/passwd" } },
                },
            },
        };
        model.Graph.Node.Add(new NodeProto
        {
            OpType = "If",
            Input = { "condition" },
            Output = { "unused" },
            Attribute = { new AttributeProto { Name = "then_branch", Type = AttributeProto.Types.AttributeType.Graph, G = branch } },
        });

        Assert.True(OnnxModelInspector.HasExternalData(OnnxModelInspector.Parse(model.ToByteArray())));
    }
}
