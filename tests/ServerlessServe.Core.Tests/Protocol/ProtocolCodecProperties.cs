using System.Text;
using FsCheck;
using FsCheck.Xunit;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Tests.Protocol;

/// <summary>
/// Property-based tests of the V2 codecs (FsCheck): every tensor of every datatype reads back equal from JSON and from the
/// binary tensor extension, and no input — arbitrary bytes, a valid body with bytes flipped or cut short — makes a codec
/// throw anything but its own refusal (<see cref="RefusedException"/>).
/// </summary>
public class ProtocolCodecProperties
{
    private static readonly ProtocolLimits Limits = new();

    private static readonly TensorDataType[] Types = Enum.GetValues<TensorDataType>();

    [Property(MaxTest = 1000)]
    public void Request_AnyTensor_RoundTripsThroughJsonAndBinary(byte typeIndex, int seed, byte rows, byte columns, bool binary)
    {
        var type = Types[typeIndex % Types.Length];
        long[] shape = [rows % 9, columns % 9];
        var tensor = new Tensor("t", type, shape, RandomData(type, (int)(shape[0] * shape[1]), new Random(seed), utf8Only: !binary));
        var request = new InferenceRequest { Id = "p-" + seed, Inputs = [tensor] };

        var encoded = V2Json.WriteRequest(request, binaryInputs: binary, binaryOutputs: false);
        var read = V2Json.ReadRequest(encoded.Body, encoded.HeaderLength, Limits);

        Assert.Equal(request.Id, read.Id);
        ProtocolAssert.TensorsEqual(request.Inputs, read.Inputs);
    }

    [Property(MaxTest = 1000)]
    public void Response_AnyTensor_RoundTripsThroughJsonAndBinary(byte typeIndex, int seed, byte length, bool binary)
    {
        var type = Types[typeIndex % Types.Length];
        var tensor = new Tensor("out", type, [length % 33], RandomData(type, length % 33, new Random(seed), utf8Only: !binary));
        var response = new InferenceResponse { ModelName = "m", ModelVersion = "1", Outputs = [tensor] };

        var encoded = V2Json.WriteResponse(response, binaryAll: binary, binaryOutputs: null);
        var read = V2Json.ReadResponse(encoded.Body, encoded.HeaderLength, Limits);

        ProtocolAssert.TensorsEqual(response.Outputs, read.Outputs);
    }

    [Property(MaxTest = 3000)]
    public void ReadRequest_ArbitraryBytes_OnlyRefuses(byte[] body, int? headerLength) =>
        OnlyRefuses(() => V2Json.ReadRequest(body ?? [], headerLength, Limits));

    [Property(MaxTest = 3000)]
    public void ReadResponse_ArbitraryBytes_OnlyRefuses(byte[] body, int? headerLength) =>
        OnlyRefuses(() => V2Json.ReadResponse(body ?? [], headerLength, Limits));

    [Property(MaxTest = 3000)]
    public void ReadRequest_ValidBodyMutated_OnlyRefuses(byte typeIndex, int seed, bool binary, int[] flips, byte cut)
    {
        var type = Types[typeIndex % Types.Length];
        var random = new Random(seed);
        var tensor = new Tensor("t", type, [2, 3], RandomData(type, 6, random, utf8Only: !binary));
        var encoded = V2Json.WriteRequest(new InferenceRequest { Inputs = [tensor] }, binaryInputs: binary, binaryOutputs: binary);
        var body = encoded.Body.ToArray();
        foreach (var flip in flips ?? [])
        {
            body[(int)((uint)flip % (uint)body.Length)] ^= (byte)(1 << (flip & 7));
        }

        body = body[..Math.Max(0, body.Length - (cut % 8))];
        OnlyRefuses(() => V2Json.ReadRequest(body, encoded.HeaderLength, Limits));
    }

    /// <summary>
    /// The inference app's streamed read of a binary body, mutated or cut short, with or without its length, in pieces:
    /// the same request as the buffered read, or the same refusal. One difference is by design: a chunked body whose
    /// sizes declare more than the body limit is refused as too large before it is read, where the buffered read first
    /// reads it. The gateway's read of the same body received whole into several buffers gives exactly the buffered
    /// read's outcome.
    /// </summary>
    [Property(MaxTest = 3000)]
    public void ReadRequestStreamedOrSegmented_ValidBinaryBodyMutated_SameOutcomeAsBuffered(byte typeIndex, int seed, int[] flips, byte cut, bool declareLength)
    {
        var type = Types[typeIndex % Types.Length];
        var random = new Random(seed);
        var tensors = new[]
        {
            new Tensor("a", type, [2, 3], RandomData(type, 6, random, utf8Only: false)),
            new Tensor("b", TensorDataType.Int32, [2], new[] { random.Next(), -random.Next() }),
        };
        var encoded = V2Json.WriteRequest(new InferenceRequest { Inputs = tensors }, binaryInputs: true, binaryOutputs: true);
        var body = encoded.Body.ToArray();
        foreach (var flip in flips ?? [])
        {
            body[(int)((uint)flip % (uint)body.Length)] ^= (byte)(1 << (flip & 7));
        }

        body = body[..Math.Max(0, body.Length - (cut % 8))];
        var header = encoded.HeaderLength!.Value;
        var streamedRead = new PieceStream(body, seed, maxPiece: 1 + (cut % 40));
        var buffered = Outcome(() => V2Json.ReadRequest(body, header, Limits));
        var streamed = Outcome(() => V2Json.ReadRequestAsync(streamedRead, declareLength ? body.Length : null, header, Limits, null, CancellationToken.None).GetAwaiter().GetResult());

        // Received whole into several buffers (the gateway's read): exactly the buffered outcome, refusals included.
        var segmented = Outcome(() => V2Json.ReadRequest(Segments.Split(body, seed, maxPiece: 1 + (cut % 40)), header, Limits, null));
        Assert.Equal(buffered.Refused?.Kind, segmented.Refused?.Kind);
        Assert.Equal(buffered.Refused?.Message, segmented.Refused?.Message);
        if (buffered.Request is { } whole)
        {
            ProtocolAssert.TensorsEqual(whole.Inputs, segmented.Request!.Inputs);
        }

        if (buffered.Request is { } expected)
        {
            ProtocolAssert.TensorsEqual(expected.Inputs, streamed.Request?.Inputs ?? throw new Xunit.Sdk.XunitException($"streamed refused: {streamed.Refused!.Message}"));
            return;
        }

        Assert.NotNull(streamed.Refused);
        if (!declareLength && streamed.Refused.Kind == RefusalKind.TooLarge && buffered.Refused!.Kind == RefusalKind.Invalid)
        {
            return;
        }

        Assert.Equal(buffered.Refused!.Kind, streamed.Refused.Kind);
        Assert.Equal(buffered.Refused.Message, streamed.Refused.Message);
    }

    private static (InferenceRequest? Request, RefusedException? Refused) Outcome(Func<InferenceRequest> read)
    {
        try
        {
            return (read(), null);
        }
        catch (RefusedException ex)
        {
            return (null, ex);
        }
    }

    [Property(MaxTest = 3000)]
    public void BinaryDecode_ArbitraryBytes_OnlyRefuses(byte[] source, byte typeIndex, byte count) =>
        OnlyRefuses(() => BinaryTensorCodec.Decode(source ?? [], Types[typeIndex % Types.Length], count, 1024, BodyLocation.Input(0)));

    [Property(MaxTest = 1000)]
    public void BinaryCodec_AnyTensor_DecodesToWhatWasEncoded(byte typeIndex, int seed, byte count)
    {
        var type = Types[typeIndex % Types.Length];
        var tensor = new Tensor("t", type, [count], RandomData(type, count, new Random(seed), utf8Only: false));
        var bytes = new byte[BinaryTensorCodec.EncodedLength(tensor)];

        var written = BinaryTensorCodec.Encode(tensor, bytes);
        var decoded = BinaryTensorCodec.Decode(bytes, type, count, int.MaxValue, BodyLocation.Input(0));

        Assert.Equal(bytes.Length, written);
        Assert.Equal(tensor.Data, decoded);
    }

    private static void OnlyRefuses(Action decode)
    {
        try
        {
            decode();
        }
        catch (RefusedException ex)
        {
            Assert.True(ex.Kind is RefusalKind.Invalid or RefusalKind.TooLarge, ex.Kind.ToString());
        }
    }

    private static Array RandomData(TensorDataType type, int count, Random random, bool utf8Only)
    {
        T[] Fill<T>(Func<T> next) => Enumerable.Range(0, count).Select(_ => next()).ToArray();
        return type switch
        {
            TensorDataType.Bool => Fill(() => random.Next(2) == 1),
            TensorDataType.UInt8 => Fill(() => (byte)random.Next(256)),
            TensorDataType.UInt16 => Fill(() => (ushort)random.Next(65536)),
            TensorDataType.UInt32 => Fill(() => (uint)random.NextInt64(0, 1L << 32)),
            TensorDataType.UInt64 => Fill(() => ((ulong)random.NextInt64() << 1) | (random.Next(2) == 1 ? 1UL : 0UL)),
            TensorDataType.Int8 => Fill(() => (sbyte)random.Next(-128, 128)),
            TensorDataType.Int16 => Fill(() => (short)random.Next(short.MinValue, short.MaxValue + 1)),
            TensorDataType.Int32 => Fill(() => (int)random.NextInt64(int.MinValue, 1L + int.MaxValue)),
            TensorDataType.Int64 => Fill(() => random.NextInt64(long.MinValue, long.MaxValue)),
            TensorDataType.Fp16 => Fill(() => Finite(BitConverter.UInt16BitsToHalf((ushort)random.Next(65536)))),
            TensorDataType.Fp32 => Fill(() => Finite(BitConverter.Int32BitsToSingle((int)random.NextInt64(int.MinValue, 1L + int.MaxValue)))),
            TensorDataType.Fp64 => Fill(() => Finite(BitConverter.Int64BitsToDouble(random.NextInt64(long.MinValue, long.MaxValue)))),
            TensorDataType.Bytes => Fill(() => utf8Only
                ? Encoding.UTF8.GetBytes(new string(Enumerable.Range(0, random.Next(12)).Select(_ => (char)random.Next(0x20, 0xD7FF)).ToArray()))
                : Enumerable.Range(0, random.Next(12)).Select(_ => (byte)random.Next(256)).ToArray()),
            _ => throw new ArgumentOutOfRangeException(nameof(type)),
        };
    }

    // JSON carries finite numbers only (NaN and infinities are refused by design); the binary extension carries any.
    private static Half Finite(Half value) => Half.IsFinite(value) ? value : (Half)1;

    private static float Finite(float value) => float.IsFinite(value) ? value : 1f;

    private static double Finite(double value) => double.IsFinite(value) ? value : 1d;
}
