using System.Buffers;
using System.Text;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Serving;
using ServerlessServe.Core.Serving.Stages;
using ServerlessServe.Core.Tests.Fixtures;
using ServerlessServe.Core.Tests.Protocol;

namespace ServerlessServe.Core.Tests.Serving;

[Collection(SharedPoolCollection.Name)]
public sealed class ReadRequestTests
{
    private const string Body = """{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}]}""";

    [Theory]
    [InlineData(null)]
    [InlineData("application/json")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("Application/JSON;charset=\"UTF-8\"")]
    [InlineData("application/octet-stream")]
    public async Task RunAsync_AcceptedMediaType_ParsesTheRequest(string? contentType)
    {
        var context = Context(contentType);

        var outcome = await new ReadRequest(new ProtocolLimits()).RunAsync(context, CancellationToken.None);

        Assert.True(outcome.Passed);
        Assert.Equal("x", Assert.Single(context.Request!.Inputs).Name);
    }

    [Theory]
    [InlineData("text/plain", null)]
    [InlineData("application/x-www-form-urlencoded", null)]
    [InlineData("application/json; charset=latin1", null)]
    [InlineData("application/json; boundary=x", null)]
    [InlineData("application/json", "gzip")]
    [InlineData(null, "deflate")]
    public async Task RunAsync_UnsupportedMediaTypeOrEncoding_RefusedBeforeReading(string? contentType, string? encoding)
    {
        var stream = new MemoryStream(Encoding.UTF8.GetBytes(Body));
        var context = Context(contentType, encoding, stream);

        var outcome = await new ReadRequest(new ProtocolLimits()).RunAsync(context, CancellationToken.None);

        Assert.Equal(RefusalKind.UnsupportedMediaType, outcome.Refusal!.Kind);
        Assert.Equal(0, stream.Position);
        Assert.Null(context.Request);
    }

    [Theory]
    [InlineData(true, 0)]
    [InlineData(false, 0)]
    [InlineData(true, 64 * 1024)]
    [InlineData(false, 64 * 1024)]
    [InlineData(false, 4_093)]
    public async Task RunAsync_BinaryImage_BodyHeldForTheSignatureStage_ReleasedWiped_RequestStillWhole(bool declareLength, int maxPiece)
    {
        var image = new float[3 * 224 * 224];
        for (var i = 0; i < image.Length; i++)
        {
            image[i] = (i % 97) + 0.5f;
        }

        var encoded = V2Json.WriteRequest(new InferenceRequest { Inputs = [new Tensor("image", TensorDataType.Fp32, [1, 3, 224, 224], image)] }, binaryInputs: true, binaryOutputs: false);
        var context = Context("application/octet-stream", stream: new PieceStream(encoded.Body, seed: 7, maxPiece));
        context.Body = context.Body! with
        {
            InferenceHeaderLength = encoded.HeaderLength!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ContentLength = declareLength ? encoded.Body.Length : null,
        };

        var outcome = await new ReadRequest(new ProtocolLimits()).RunAsync(context, CancellationToken.None);

        // The body as received, for the signature stage's digest: in the buffers it arrived in (more than one, as it
        // grew with what had arrived), never put together.
        Assert.True(outcome.Passed);
        Assert.Equal(encoded.Body, context.BodyBytes.ToArray());
        Assert.False(context.BodyBytes.IsSingleSegment);
        var held = new List<ArraySegment<byte>>();
        foreach (var part in context.BodyBytes)
        {
            Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(part, out var segment), "the body is held in arrays");
            held.Add(segment);
        }

        // Released: every buffer goes back to the pool wiped, and the request decoded from them owns its own arrays.
        context.ReleaseBody();
        context.ReleaseBody();

        Assert.True(context.BodyBytes.IsEmpty);
        Assert.All(held, segment => Assert.All(segment, b => Assert.Equal(0, b)));
        Assert.Equal(image, (float[])Assert.Single(context.Request!.Inputs).Data);
    }

    [Theory]
    [InlineData(BodyReading.Buffered)]
    [InlineData(BodyReading.StreamBinaryTensors)]
    public async Task RunAsync_BinaryImagesWithAPool_EachRequestItsOwnArray_ReusedOnlyAfterRelease(BodyReading reading)
    {
        var pool = new TensorArrayPool(64L * 1024 * 1024);
        var stage = new ReadRequest(new ProtocolLimits(), pool, reading);
        var first = BinaryImageContext(seed: 1, out var firstImage);
        var second = BinaryImageContext(seed: 2, out var secondImage);

        Assert.True((await stage.RunAsync(first, CancellationToken.None)).Passed);
        Assert.True((await stage.RunAsync(second, CancellationToken.None)).Passed);

        var firstTensor = Assert.Single(first.Request!.Inputs);
        var secondTensor = Assert.Single(second.Request!.Inputs);
        Assert.NotNull(firstTensor.Lease);
        Assert.NotSame(firstTensor.Data, secondTensor.Data);
        Assert.Equal(firstImage, (float[])firstTensor.Data);
        Assert.Equal(secondImage, (float[])secondTensor.Data);
        Assert.Equal(0, pool.RetainedBytes);

        // The first request ends: its array goes back wiped, the second's is untouched, and the next request gets the
        // first's array filled with its own values only.
        first.ReleaseTensors();
        first.ReleaseTensors();
        Assert.Equal(ImageLength * sizeof(float), pool.RetainedBytes);
        Assert.All((float[])firstTensor.Data, v => Assert.Equal(0f, v));
        Assert.Equal(secondImage, (float[])secondTensor.Data);

        var third = BinaryImageContext(seed: 3, out var thirdImage);
        Assert.True((await stage.RunAsync(third, CancellationToken.None)).Passed);
        var thirdTensor = Assert.Single(third.Request!.Inputs);
        Assert.Same(firstTensor.Data, thirdTensor.Data);
        Assert.Equal(thirdImage, (float[])thirdTensor.Data);
        Assert.Equal(0, pool.RetainedBytes);
    }

    [Fact]
    public async Task RunAsync_JsonBodiesWithAPool_LargeTensorPooledSmallOneNot()
    {
        var pool = new TensorArrayPool(1024 * 1024);
        var stage = new ReadRequest(new ProtocolLimits(), pool);
        var small = Context("application/json");
        var values = Enumerable.Range(0, 20_000).Select(i => (float)(i % 113)).ToArray();
        var large = JsonContext(values);

        Assert.True((await stage.RunAsync(small, CancellationToken.None)).Passed);
        Assert.True((await stage.RunAsync(large, CancellationToken.None)).Passed);
        Assert.Null(Assert.Single(small.Request!.Inputs).Lease);
        Assert.NotNull(Assert.Single(large.Request!.Inputs).Lease);
        var largeData = Assert.Single(large.Request!.Inputs).Data;
        Assert.Equal(values, (float[])largeData);

        small.ReleaseTensors();
        Assert.Equal(0, pool.RetainedBytes);
        large.ReleaseTensors();
        Assert.Equal(values.Length * sizeof(float), pool.RetainedBytes);

        var next = values.Select(v => v + 1).ToArray();
        var again = JsonContext(next);
        Assert.True((await stage.RunAsync(again, CancellationToken.None)).Passed);
        Assert.Same(largeData, Assert.Single(again.Request!.Inputs).Data);
        Assert.Equal(next, (float[])largeData);
    }

    private static InferenceContext JsonContext(float[] values)
    {
        var json = V2Json.WriteRequest(new InferenceRequest { Inputs = [new Tensor("x", TensorDataType.Fp32, [1, values.Length], values)] }, binaryInputs: false, binaryOutputs: false);
        return Context("application/json", stream: new MemoryStream(json.Body));
    }

    [Theory]
    [InlineData(BodyReading.Buffered)]
    [InlineData(BodyReading.StreamBinaryTensors)]
    public async Task RunAsync_RefusedAfterAPooledTensor_TheLeaseIsReleasedAtOnce(BodyReading reading)
    {
        var pool = new TensorArrayPool(64L * 1024 * 1024);
        var pixels = new float[ImageLength];
        var request = new InferenceRequest
        {
            Inputs = [new Tensor("image", TensorDataType.Fp32, [1, 3, 224, 224], pixels), new Tensor("flags", TensorDataType.Bool, [2], new[] { true, false })],
        };
        var encoded = V2Json.WriteRequest(request, binaryInputs: true, binaryOutputs: false);
        encoded.Body[^1] = 2; // a BOOL that is neither 0 nor 1, after the image was decoded
        var context = Context("application/octet-stream", stream: new MemoryStream(encoded.Body));
        context.Body = context.Body! with { InferenceHeaderLength = encoded.HeaderLength!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) };

        var refused = await Assert.ThrowsAsync<RefusedException>(async () => await new ReadRequest(new ProtocolLimits(), pool, reading).RunAsync(context, CancellationToken.None));

        Assert.Equal(RefusalKind.Invalid, refused.Refusal.Kind);
        Assert.Null(context.Request);
        Assert.Equal(pixels.Length * sizeof(float), pool.RetainedBytes);
    }

    [Fact]
    public async Task RunAsync_StreamBinaryTensors_BinaryBodyReadIntoTheTensorsNotHeld_JsonBodyStillHeld()
    {
        var stage = new ReadRequest(new ProtocolLimits(), new TensorArrayPool(64L * 1024 * 1024), BodyReading.StreamBinaryTensors);
        var binary = BinaryImageContext(seed: 4, out var pixels);
        binary.Body = binary.Body! with { ContentLength = null };
        var json = Context("application/json");

        Assert.True((await stage.RunAsync(binary, CancellationToken.None)).Passed);
        Assert.True((await stage.RunAsync(json, CancellationToken.None)).Passed);

        Assert.True(binary.BodyBytes.IsEmpty);
        var image = Assert.Single(binary.Request!.Inputs);
        Assert.Equal(pixels, (float[])image.Data);
        Assert.NotNull(image.Lease);
        Assert.Equal(Encoding.UTF8.GetBytes(Body), json.BodyBytes.ToArray());
        binary.ReleaseTensors();
        json.ReleaseBody();
    }

    private const int ImageLength = 3 * 224 * 224;

    private static InferenceContext BinaryImageContext(int seed, out float[] pixels)
    {
        pixels = new float[ImageLength];
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = ((i * seed) % 251) + seed;
        }

        var encoded = V2Json.WriteRequest(new InferenceRequest { Inputs = [new Tensor("image", TensorDataType.Fp32, [1, 3, 224, 224], pixels)] }, binaryInputs: true, binaryOutputs: false);
        var context = Context("application/octet-stream", stream: new MemoryStream(encoded.Body));
        context.Body = context.Body! with { InferenceHeaderLength = encoded.HeaderLength!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        return context;
    }

    [Fact]
    public async Task RunAsync_BadInferenceHeaderLength_Invalid()
    {
        var context = Context("application/octet-stream");
        context.Body = context.Body! with { InferenceHeaderLength = "-1" };

        var outcome = await new ReadRequest(new ProtocolLimits()).RunAsync(context, CancellationToken.None);

        Assert.Equal(RefusalKind.Invalid, outcome.Refusal!.Kind);
    }

    private static InferenceContext Context(string? contentType, string? encoding = null, Stream? stream = null)
    {
        stream ??= new MemoryStream(Encoding.UTF8.GetBytes(Body));
        return new InferenceContext("r", "m", null, "infer")
        {
            Body = new IncomingBody(stream, stream.Length, contentType, encoding, null),
        };
    }
}
