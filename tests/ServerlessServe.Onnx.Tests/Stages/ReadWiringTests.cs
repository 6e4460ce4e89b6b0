using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Serving;
using ServerlessServe.Core.Serving.Stages;
using ServerlessServe.Core.Tests.Protocol;
using ServerlessServe.Hosting.DependencyInjection;

namespace ServerlessServe.Onnx.Tests.Stages;

/// <summary>The inference app's <c>read</c>, as its feature registers it, takes a binary body from the connection into the tensors, never whole.</summary>
public sealed class ReadWiringTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task InferenceAppRead_BinaryImages_StreamedIntoPooledArrays_NoBodyHeld(bool declareLength)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection([new("ServerlessServe:Storage:ConnectionString", "UseDevelopmentStorage=true")]);
        builder.AddServerlessServe().AddOnnxInference();
        using var host = builder.Build();
        var stage = host.Services.GetRequiredService<ReadRequest>();

        var pixels = new float[4 * 3 * 224 * 224];
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (i % 211) * 0.25f;
        }

        var encoded = V2Json.WriteRequest(new InferenceRequest { Inputs = [new Tensor("image", TensorDataType.Fp32, [4, 3, 224, 224], pixels)] }, binaryInputs: true, binaryOutputs: false);
        var stream = new PieceStream(encoded.Body, maxPiece: 0);
        var context = new InferenceContext("r", "resnet18", null, "infer")
        {
            Body = new IncomingBody(stream, declareLength ? encoded.Body.Length : null, "application/octet-stream", null, encoded.HeaderLength!.Value.ToString(CultureInfo.InvariantCulture)),
        };

        Assert.True((await stage.RunAsync(context, CancellationToken.None)).Passed);

        var image = Assert.Single(context.Request!.Inputs);
        Assert.Equal(pixels, (float[])image.Data);
        Assert.NotNull(image.Lease);
        Assert.True(context.BodyBytes.IsEmpty);

        // 2.4 MB arrived through reads no larger than the staging buffer: nothing was sized by the body.
        Assert.InRange(stream.LargestOffered, 1, V2BodyReader.StagingBytes * 2);
        context.ReleaseTensors();
    }
    /// <summary>
    /// The inference app takes what the gateway forwards: the binary encoding of its element cap (8 bytes an element),
    /// even with the caller's body limit configured, as the deployment configures it. It took the configured 16 MiB as
    /// it was before 2026-12-07, so a valid 8 MiB JSON request of 4 Mi FP32 zeros, forwarded as 16 MiB and change, was
    /// answered 413 in Azure only (found in review). Since 2026-12-08 the configured limit is added for BYTES content,
    /// which the element cap does not bound (review: 4 Mi INT64 zeros and 7 MiB of strings were forwarded at 41 MB).
    /// </summary>
    [Theory]
    [InlineData(null, 51_380_224)]
    [InlineData("1048576", 35_651_584)]
    [InlineData("16777216", 51_380_224)]
    [InlineData("67108864", 101_711_872)]
    public void InferenceAppBodyLimit_AtLeastWhatTheGatewayForwards(string? configured, int expected)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection([new("ServerlessServe:Storage:ConnectionString", "UseDevelopmentStorage=true")]);
        if (configured is not null)
        {
            builder.Configuration.AddInMemoryCollection([new("ServerlessServe:Protocol:MaxBodyBytes", configured)]);
        }

        builder.AddServerlessServe().AddOnnxInference();
        using var host = builder.Build();

        var limits = host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ProtocolLimits>>().Value;
        Assert.Equal(expected, limits.MaxBodyBytes);
        Assert.Equal(51_380_224, new ProtocolLimits().BinaryBodyLimit);
    }
}
