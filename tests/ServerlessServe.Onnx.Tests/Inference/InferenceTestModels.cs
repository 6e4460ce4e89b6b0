using Google.Protobuf;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Onnx;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Tests.Artifacts;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Onnx.Tests.Inference;

/// <summary>Loaded sample models without storage, for runner and cache tests.</summary>
internal static class InferenceTestModels
{
    public static OnnxSessionCache NewCache(InferenceOptions? options = null) => new(Options.Create(options ?? new InferenceOptions { IntraOpNumThreads = 1 }), new FakeLogger<OnnxSessionCache>());

    public static VerifiedModel Verified(ModelPackage package, byte[] model) =>
        new(new VerifiedModelVersion(package.Manifest, package.ManifestDigest, Core.Policy.PolicyLoader.Parse(package.Files.Single(f => f.Name == "policy.json").Content.Span)), model);

    public static Task<LoadedModel> CreditRiskAsync(OnnxSessionCache cache) =>
        cache.GetOrCreateAsync(Verified(TestPackages.CreditRisk(CreditRiskSample.Name, "1"), TestPackages.CreditRiskModel), default);

    /// <summary>Credit-risk with a policy that asks for batching (at most 16 rows a run, no delay).</summary>
    public static Task<LoadedModel> BatchedCreditRiskAsync(OnnxSessionCache cache) =>
        cache.GetOrCreateAsync(
            Verified(
                TestPackages.CreditRisk("credit-risk-batched", "1", policy: """{"schemaVersion":1,"maxBatch":8,"batching":{"maxBatchSize":16}}"""u8.ToArray()),
                TestPackages.CreditRiskModel),
            default);

    public static Task<LoadedModel> CustomerNotesAsync(OnnxSessionCache cache) =>
        cache.GetOrCreateAsync(Verified(TestPackages.CustomerNotes(CustomerNotesSample.Name, "1"), TestPackages.CustomerNotesModel), default);

    /// <summary>An Identity model for one datatype: <c>x</c> [-1, 2] → <c>y</c> [-1, 2].</summary>
    public static Task<LoadedModel> IdentityAsync(OnnxSessionCache cache, TensorDataType type)
    {
        var element = (int)(type switch
        {
            TensorDataType.Bool => TensorProto.Types.DataType.Bool,
            TensorDataType.UInt8 => TensorProto.Types.DataType.Uint8,
            TensorDataType.UInt16 => TensorProto.Types.DataType.Uint16,
            TensorDataType.UInt32 => TensorProto.Types.DataType.Uint32,
            TensorDataType.UInt64 => TensorProto.Types.DataType.Uint64,
            TensorDataType.Int8 => TensorProto.Types.DataType.Int8,
            TensorDataType.Int16 => TensorProto.Types.DataType.Int16,
            TensorDataType.Int32 => TensorProto.Types.DataType.Int32,
            TensorDataType.Int64 => TensorProto.Types.DataType.Int64,
            TensorDataType.Fp16 => TensorProto.Types.DataType.Float16,
            TensorDataType.Fp32 => TensorProto.Types.DataType.Float,
            TensorDataType.Fp64 => TensorProto.Types.DataType.Double,
            _ => TensorProto.Types.DataType.String,
        });
        return Identity(cache, "identity-" + type.ToWire().ToLowerInvariant(), element, Dim("n"), Dim(2));
    }

    /// <summary>An FP32 Identity model whose batch dimension is fixed: <c>x</c> [2, 2] → <c>y</c> [2, 2] (not batchable).</summary>
    public static Task<LoadedModel> FixedBatchIdentityAsync(OnnxSessionCache cache) =>
        Identity(cache, "identity-fixed", (int)TensorProto.Types.DataType.Float, Dim(2), Dim(2));

    /// <summary>An FP32 Identity model with both dimensions free: <c>x</c> [n, m] → <c>y</c> [n, m].</summary>
    public static Task<LoadedModel> FreeIdentityAsync(OnnxSessionCache cache) =>
        Identity(cache, "identity-free", (int)TensorProto.Types.DataType.Float, Dim("n"), Dim("m"));

    /// <summary>
    /// An FP32 Identity model whose output's leading dimension is declared free but named otherwise than the input's:
    /// <c>x</c> [n, 2] → <c>y</c> [<paramref name="outputFirst"/>, 2]. Not batchable: nothing in the graph says that row
    /// i of <c>y</c> comes from row i of <c>x</c>. (Left unnamed, ONNX Runtime's shape inference names it <c>n</c>.)
    /// </summary>
    public static Task<LoadedModel> OtherLeadingOutputIdentityAsync(OnnxSessionCache cache, string outputFirst) =>
        Identity(cache, "identity-other-" + outputFirst, (int)TensorProto.Types.DataType.Float, [Dim("n"), Dim(2)], [Dim(outputFirst), Dim(2)]);

    private static Task<LoadedModel> Identity(OnnxSessionCache cache, string name, int element, params TensorShapeProto.Types.Dimension[] dims) =>
        Identity(cache, name, element, dims, dims);

    private static Task<LoadedModel> Identity(OnnxSessionCache cache, string name, int element, TensorShapeProto.Types.Dimension[] dims, TensorShapeProto.Types.Dimension[] outputDims)
    {
        var graph = new GraphProto { Name = "identity" };
        graph.Input.Add(Value("x", element, dims));
        graph.Output.Add(Value("y", element, outputDims));
        graph.Node.Add(new NodeProto { OpType = "Identity", Input = { "x" }, Output = { "y" } });
        var model = new ModelProto { IrVersion = 8, OpsetImport = { new OperatorSetIdProto { Version = 13 } }, Graph = graph }.ToByteArray();
        var package = TestPackages.PackUnchecked(name, "1", model, """{"schemaVersion":1,"maxBatch":4}"""u8.ToArray());
        return cache.GetOrCreateAsync(Verified(package, model), default);
    }

    private static TensorShapeProto.Types.Dimension Dim(string symbol) => new() { DimParam = symbol };

    private static TensorShapeProto.Types.Dimension Dim(long size) => new() { DimValue = size };

    private static ValueInfoProto Value(string name, int element, TensorShapeProto.Types.Dimension[] dims) => new()
    {
        Name = name,
        Type = new TypeProto
        {
            TensorType = new TypeProto.Types.Tensor
            {
                ElemType = element,
                Shape = new TensorShapeProto { Dim = { dims.Select(d => d.Clone()) } },
            },
        },
    };
}
