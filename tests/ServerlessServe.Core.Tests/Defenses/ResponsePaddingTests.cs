using System.Text;
using System.Text.Json;
using ServerlessServe.Core.Defenses;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Tests.Defenses;

public sealed class ResponsePaddingTests
{
    private static readonly int[] Buckets = [256, 1024];

    [Theory]
    [InlineData(10, 256)]
    [InlineData(256, 256)]
    [InlineData(257, 1024)]
    [InlineData(1025, 2048)]
    [InlineData(5000, 5120)]
    public void Target_SmallestBucketThatFits_ElseAMultipleOfTheLargest(long length, long expected) =>
        Assert.Equal(expected, ResponsePadding.Target(length, Buckets));

    [Fact]
    public void Pad_JsonBody_TrailingSpacesKeepItTheSameJson()
    {
        var json = Encoding.UTF8.GetBytes("""{"model_name":"digits","outputs":[]}""");

        var padded = ResponsePadding.Pad(new EncodedBody(json, null, EncodedBody.JsonContentType), Buckets);

        Assert.Equal(256, padded.Body.Length);
        Assert.Null(padded.HeaderLength);
        using var document = JsonDocument.Parse(padded.Body);
        Assert.Equal("digits", document.RootElement.GetProperty("model_name").GetString());
    }

    [Fact]
    public void Pad_BinaryBody_HeaderGrowsAndTheTensorBytesFollowIt()
    {
        var header = Encoding.UTF8.GetBytes("""{"outputs":[{"name":"p","parameters":{"binary_data_size":4}}]}""");
        byte[] tensor = [1, 2, 3, 4];
        var body = header.Concat(tensor).ToArray();

        var padded = ResponsePadding.Pad(new EncodedBody(body, header.Length, EncodedBody.BinaryContentType), Buckets);

        Assert.Equal(256, padded.Body.Length);
        Assert.Equal(256 - tensor.Length, padded.HeaderLength);
        Assert.Equal(tensor, padded.Body[^4..]);
        using var document = JsonDocument.Parse(padded.Body.AsMemory(0, padded.HeaderLength!.Value));
        Assert.Equal("p", document.RootElement.GetProperty("outputs")[0].GetProperty("name").GetString());
    }

    [Fact]
    public void PadError_DifferentMessages_SameLength()
    {
        var shortOne = ResponsePadding.PadError(V2Json.WriteError("no such model"), 512);
        var longOne = ResponsePadding.PadError(V2Json.WriteError("the input was refused by the model's input screening"), 512);

        Assert.Equal(512, shortOne.Length);
        Assert.Equal(512, longOne.Length);
        using var document = JsonDocument.Parse(shortOne);
        Assert.Equal("no such model", document.RootElement.GetProperty("error").GetString());
    }
}
