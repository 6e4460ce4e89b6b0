using System.Text;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Tests.Protocol;

/// <summary>Shared helpers: read bodies and assert refusals carry the right status and never echo what was sent.</summary>
internal static class ProtocolAssert
{
    public static InferenceRequest Read(string json, ProtocolLimits? limits = null) =>
        V2Json.ReadRequest(Encoding.UTF8.GetBytes(json), null, limits ?? new ProtocolLimits());

    public static RefusedException Refused(string json, int status, params string[] secrets) =>
        Refused(Encoding.UTF8.GetBytes(json), null, status, null, secrets);

    public static RefusedException Refused(string json, int status, ProtocolLimits limits, params string[] secrets) =>
        Refused(Encoding.UTF8.GetBytes(json), null, status, limits, secrets);

    public static RefusedException Refused(byte[] body, int? headerLength, int status, ProtocolLimits? limits, params string[] secrets)
    {
        var error = Assert.Throws<RefusedException>(() => V2Json.ReadRequest(body, headerLength, limits ?? new ProtocolLimits()));
        // The V2 status the HTTP edge will answer: the codecs refuse only as invalid (400) or too large (413).
        Assert.Equal(status switch { 400 => RefusalKind.Invalid, 413 => RefusalKind.TooLarge, _ => throw new ArgumentOutOfRangeException(nameof(status)) }, error.Kind);
        Assert.NotEmpty(error.Message);
        NoEcho(error.Message, secrets);
        if (headerLength is { } header)
        {
            // A body in the binary extension read from the connection (the inference app) is refused alike, whether it
            // declared its length or came chunked, in pieces of any size.
            foreach (var declared in new[] { true, false })
            {
                var streamed = RefusedStreamed(body, header, declared, limits);
                Assert.Equal(error.Kind, streamed.Kind);
                Assert.Equal(error.Message, streamed.Message);
            }

            // So is one received whole into several buffers (the gateway's read), however they split it.
            foreach (var maxPiece in new[] { 1, 7, 64 })
            {
                var segmented = Assert.Throws<RefusedException>(() => V2Json.ReadRequest(Segments.Split(body, seed: maxPiece, maxPiece), header, limits ?? new ProtocolLimits(), null));
                Assert.Equal(error.Kind, segmented.Kind);
                Assert.Equal(error.Message, segmented.Message);
            }
        }

        return error;
    }

    /// <summary>The refusal of <paramref name="body"/> read as it arrives in pieces of 1 to 7 bytes, with or without its length.</summary>
    public static RefusedException RefusedStreamed(byte[] body, int headerLength, bool declareLength, ProtocolLimits? limits) =>
        Assert.ThrowsAsync<RefusedException>(() => V2Json.ReadRequestAsync(
            new PieceStream(body, seed: body.Length), declareLength ? body.Length : null, headerLength, limits ?? new ProtocolLimits(), null, CancellationToken.None))
            .GetAwaiter().GetResult();

    public static void NoEcho(string message, params string[] secrets)
    {
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, message, StringComparison.OrdinalIgnoreCase);
        }
    }

    /// <summary>A request with one input, as JSON, with the given tensor properties spliced in.</summary>
    public static string OneInput(string tensorBody, string? topLevelExtra = null) =>
        "{\"inputs\":[{" + tensorBody + "}]" + (topLevelExtra is null ? string.Empty : "," + topLevelExtra) + "}";

    public static void TensorsEqual(IReadOnlyList<Tensor> expected, IReadOnlyList<Tensor> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Name, actual[i].Name);
            Assert.Equal(expected[i].DataType, actual[i].DataType);
            Assert.Equal(expected[i].Shape, actual[i].Shape);
            Assert.Equal(expected[i].Data.GetType(), actual[i].Data.GetType());
            Assert.Equal(expected[i].Data, actual[i].Data);
        }
    }
}
