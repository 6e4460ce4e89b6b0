using BenchmarkDotNet.Attributes;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Redaction;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Benchmarks;

/// <summary>
/// The Open Inference Protocol codecs on the gateway's request path: reading the request body (JSON and the binary
/// tensor data extension), writing the response, and the tensor digest the audit record keeps of input and output.
/// Bodies are produced by our own writer from the sample shapes, so they are what a V2 client sends.
/// </summary>
[MemoryDiagnoser]
public class ProtocolBenchmarks
{
    private readonly ProtocolLimits _limits = new();
    private EncodedBody _creditRiskJson = null!;
    private EncodedBody _imageJson = null!;
    private byte[] _imagePythonJson = null!;
    private byte[] _imagePythonNestedJson = null!;
    private EncodedBody _bytesImageJson = null!;
    private EncodedBody _imageBinary = null!;
    private EncodedBody _images32Binary = null!;
    private InferenceResponse _featuresResponse = null!;
    private InferenceResponse _imageResponse = null!;
    private InferenceResponse _maskResponse = null!;
    private readonly byte[] _formatted = new byte[(BenchmarkData.ImageElements * (JsonNumberFormat.MaxSingleLength + 1)) + JsonNumberFormat.Room];
    private Tensor[] _image = null!;
    private readonly TensorArrayPool _pool = new(64L * 1024 * 1024);

    // The inference app's limits for a batch of 32 images (it raises the body cap to what its element cap can hold).
    private readonly ProtocolLimits _batchLimits = new() { MaxBodyBytes = 64 * 1024 * 1024, MaxElementsPerRequest = 8 * 1024 * 1024 };

    [GlobalSetup]
    public void Setup()
    {
        _image = [BenchmarkData.Image()];
        _creditRiskJson = V2Json.WriteRequest(new InferenceRequest { Inputs = [BenchmarkData.CreditRiskFeatures(1)] }, binaryInputs: false, binaryOutputs: false);
        _imageJson = V2Json.WriteRequest(new InferenceRequest { Inputs = _image }, binaryInputs: false, binaryOutputs: false);
        _imageBinary = V2Json.WriteRequest(new InferenceRequest { Inputs = _image }, binaryInputs: true, binaryOutputs: false);
        _imagePythonJson = PythonJson(_image[0]);
        _imagePythonNestedJson = PythonJson(_image[0], nested: true);
        var pixels = new byte[BenchmarkData.ImageElements];
        new Random(7).NextBytes(pixels);
        _bytesImageJson = V2Json.WriteRequest(
            new InferenceRequest { Inputs = [new Tensor("pixels", TensorDataType.UInt8, BenchmarkData.ImageShape, pixels)] }, binaryInputs: false, binaryOutputs: false);
        var images32 = new float[32 * BenchmarkData.ImageElements];
        for (var i = 0; i < 32; i++)
        {
            ((float[])BenchmarkData.Image((uint)i + 1).Data).CopyTo(images32, i * BenchmarkData.ImageElements);
        }

        _images32Binary = V2Json.WriteRequest(
            new InferenceRequest { Inputs = [new Tensor(ResNet18Sample.InputName, TensorDataType.Fp32, [32, 3, 224, 224], images32)] },
            binaryInputs: true,
            binaryOutputs: false);

        // ResNet18's 512 features, rounded to 4 digits as its policy says: the response the gateway writes for it.
        _featuresResponse = new InferenceResponse
        {
            ModelName = ResNet18Sample.Name,
            ModelVersion = SampleModels.Version,
            Id = "bench-1",
            Outputs = [OutputHardener.Round(BenchmarkData.ResNetFeatures(), 4)],
        };

        // An image-sized output (an image-to-image model's), not rounded: each float's shortest form has 7-9 digits.
        _imageResponse = new InferenceResponse { ModelName = "image-out", Outputs = [_image[0]] };

        // A segmentation mask: one INT64 class per pixel of the image, 0-20.
        var classes = new long[BenchmarkData.ImageElements];
        for (var i = 0; i < classes.Length; i++)
        {
            classes[i] = pixels[i] % 21;
        }

        _maskResponse = new InferenceResponse { ModelName = "mask-out", Outputs = [new Tensor("mask", TensorDataType.Int64, BenchmarkData.ImageShape, classes)] };

        // Body sizes, so the results can be read against them (in the log of each benchmark process).
        Console.WriteLine($"// body bytes: credit-risk JSON {_creditRiskJson.Body.Length}, image JSON {_imageJson.Body.Length}, image JSON in Python's digits {_imagePythonJson.Length}, image binary {_imageBinary.Body.Length}, 32 images binary {_images32Binary.Body.Length}");
    }

    private InferenceRequest TokenByToken(EncodedBody body)
    {
        V2BodyReader.NumbersTokenByToken = true;
        try
        {
            return V2Json.ReadRequest(body.Body, body.HeaderLength, _limits);
        }
        finally
        {
            V2BodyReader.NumbersTokenByToken = false;
        }
    }

    private static EncodedBody ByElement(InferenceResponse response)
    {
        V2BodyWriter.NumbersByElement = true;
        try
        {
            return V2Json.WriteResponse(response, binaryAll: false, binaryOutputs: null);
        }
        finally
        {
            V2BodyWriter.NumbersByElement = false;
        }
    }

    /// <summary>
    /// The image as a Python client writes it: each float32 a double in its shortest form. Flat, as tritonclient
    /// sends it, or <paramref name="nested"/> as <c>numpy.ndarray.tolist()</c> gives it (one level per dimension).
    /// </summary>
    private static byte[] PythonJson(Tensor image, bool nested = false)
    {
        var text = new System.Text.StringBuilder();
        text.Append("{\"inputs\":[{\"name\":\"").Append(image.Name).Append("\",\"shape\":[")
            .AppendJoin(',', image.Shape).Append("],\"datatype\":\"FP32\",\"data\":");
        var pixels = (float[])image.Data;
        var index = 0;
        WriteLevel(text, pixels, nested ? image.Shape : [pixels.Length], 0, ref index);
        return System.Text.Encoding.UTF8.GetBytes(text.Append("}]}").ToString());

        static void WriteLevel(System.Text.StringBuilder text, float[] pixels, long[] shape, int level, ref int index)
        {
            text.Append('[');
            for (var k = 0; k < shape[level]; k++)
            {
                text.Append(k == 0 ? "" : ", ");
                if (level == shape.Length - 1)
                {
                    text.Append(((double)pixels[index++]).ToString("R", System.Globalization.CultureInfo.InvariantCulture));
                }
                else
                {
                    WriteLevel(text, pixels, shape, level + 1, ref index);
                }
            }

            text.Append(']');
        }
    }

    [Benchmark]
    public InferenceRequest ReadRequest_Json_CreditRisk() => V2Json.ReadRequest(_creditRiskJson.Body, _creditRiskJson.HeaderLength, _limits);

    [Benchmark]
    public InferenceRequest ReadRequest_Json_Image() => V2Json.ReadRequest(_imageJson.Body, _imageJson.HeaderLength, _limits);

    /// <summary>
    /// The same image as Python V2 clients send it (tritonclient's JSON path): each float32 made a double by
    /// <c>tolist()</c> and written by <c>json.dumps</c> in the double's shortest form, up to 17 digits.
    /// </summary>
    [Benchmark]
    public InferenceRequest ReadRequest_Json_Image_PythonDigits() => V2Json.ReadRequest(_imagePythonJson, null, _limits);

    /// <summary>As <see cref="ReadRequest_Json_Image_PythonDigits"/>, nested as <c>tolist()</c> gives it (672 rows of 224).</summary>
    [Benchmark]
    public InferenceRequest ReadRequest_Json_Image_PythonNested() => V2Json.ReadRequest(_imagePythonNestedJson, null, _limits);

    /// <summary>As <see cref="ReadRequest_Json_Image_PythonNested"/>, token by token.</summary>
    [Benchmark]
    public InferenceRequest ReadRequest_Json_Image_PythonNested_TokenByToken() => TokenByToken(new EncodedBody(_imagePythonNestedJson, null, "application/json"));

    /// <summary>The image as <see cref="ReadRequest_Json_Image"/>, its numbers read token by token (how every array was read before 2026-12-05).</summary>
    [Benchmark]
    public InferenceRequest ReadRequest_Json_Image_TokenByToken() => TokenByToken(_imageJson);

    /// <summary>An image of UINT8 pixels, 0-255, as JSON (150,528 integers).</summary>
    [Benchmark]
    public InferenceRequest ReadRequest_Json_Uint8Image() => V2Json.ReadRequest(_bytesImageJson.Body, _bytesImageJson.HeaderLength, _limits);

    /// <summary>As <see cref="ReadRequest_Json_Uint8Image"/>, token by token.</summary>
    [Benchmark]
    public InferenceRequest ReadRequest_Json_Uint8Image_TokenByToken() => TokenByToken(_bytesImageJson);

    [Benchmark]
    public InferenceRequest ReadRequest_Binary_Image() => V2Json.ReadRequest(_imageBinary.Body, _imageBinary.HeaderLength, _limits);

    /// <summary>A request's image decoded into a pooled array, and its lease released, as each app does per request.</summary>
    [Benchmark]
    public int ReadRequest_Binary_Image_PooledArray()
    {
        var lease = _pool.Lease();
        var request = V2Json.ReadRequest(_imageBinary.Body, _imageBinary.HeaderLength, _limits, lease);
        lease.Release();
        return request.Inputs.Count;
    }

    [Benchmark]
    public EncodedBody WriteResponse_Json_Features() => V2Json.WriteResponse(_featuresResponse, binaryAll: false, binaryOutputs: null);

    /// <summary>The same, each float written by <see cref="System.Text.Json.Utf8JsonWriter"/> (before 2026-12-05, eighth session).</summary>
    [Benchmark]
    public EncodedBody WriteResponse_Json_Features_ByElement() => ByElement(_featuresResponse);

    [Benchmark]
    public EncodedBody WriteResponse_Json_Image() => V2Json.WriteResponse(_imageResponse, binaryAll: false, binaryOutputs: null);

    [Benchmark]
    public EncodedBody WriteResponse_Json_Image_ByElement() => ByElement(_imageResponse);

    /// <summary>The image's floats formatted alone, into one buffer: what the writer's arrays cost without the body around them.</summary>
    [Benchmark]
    public int FormatNumbers_Image()
    {
        var pixels = (float[])_image[0].Data;
        var at = 0;
        foreach (var pixel in pixels)
        {
            at += JsonNumberFormat.FormatSingle(pixel, _formatted.AsSpan(at));
            _formatted[at++] = (byte)',';
        }

        return at;
    }

    [Benchmark]
    public EncodedBody WriteResponse_Json_Mask() => V2Json.WriteResponse(_maskResponse, binaryAll: false, binaryOutputs: null);

    [Benchmark]
    public EncodedBody WriteResponse_Json_Mask_ByElement() => ByElement(_maskResponse);

    [Benchmark]
    public EncodedBody WriteResponse_Binary_Features() => V2Json.WriteResponse(_featuresResponse, binaryAll: true, binaryOutputs: null);

    [Benchmark]
    public string TensorDigest_Image() => TensorDigest.Compute(_image);

    /// <summary>Reading an image's binary body from the connection into an array of its own (before 2026-12-01).</summary>
    [Benchmark]
    public async Task<int> ReadBody_Binary_Image_Copied()
    {
        using var stream = new MemoryStream(_imageBinary.Body, writable: false);
        return (await HttpBodyReader.ReadLimitedAsync(stream, _imageBinary.Body.Length, _limits.MaxBodyBytes, CancellationToken.None).ConfigureAwait(false)).Length;
    }

    /// <summary>The same body kept in the pooled buffer it was read into, then handed back (what read does now).</summary>
    [Benchmark]
    public async Task<int> ReadBody_Binary_Image_Pooled()
    {
        using var stream = new MemoryStream(_imageBinary.Body, writable: false);
        var (buffer, length) = await HttpBodyReader.ReadPooledAsync(stream, _imageBinary.Body.Length, _limits.MaxBodyBytes, CancellationToken.None).ConfigureAwait(false);
        HttpBodyReader.Return(buffer, length);
        return length;
    }

    /// <summary>
    /// 32 images in one binary body (19 MB), read as Kestrel hands a body over: at most 64 KiB a read (its receive
    /// blocks), into the pooled buffer, then handed back wiped, as the inference app's read stage and release do.
    /// </summary>
    [Benchmark]
    public async Task<int> ReadBody_Binary_32Images_Pooled()
    {
        using var stream = new PieceStream(_images32Binary.Body, 64 * 1024);
        var (buffer, length) = await HttpBodyReader.ReadPooledAsync(stream, _images32Binary.Body.Length, int.MaxValue, CancellationToken.None).ConfigureAwait(false);
        HttpBodyReader.Return(buffer, length);
        return length;
    }

    /// <summary>
    /// The inference app's whole read of one image as the gateway forwards it (chunked, 64 KiB reads): the body into the
    /// pooled buffer, decoded into a pooled tensor array, both handed back wiped (before 2026-12-05; the gateway's read
    /// until the third session that day).
    /// </summary>
    [Benchmark]
    public Task<int> ReadRequest_Binary_Image_Buffered() => ReadBufferedAsync(_imageBinary);

    /// <summary>The same read from the connection straight into the pooled tensor array (the inference app now).</summary>
    [Benchmark]
    public Task<int> ReadRequest_Binary_Image_Streamed() => ReadStreamedAsync(_imageBinary);

    /// <summary>As <see cref="ReadRequest_Binary_Image_Buffered"/> for 32 images in one body (19 MB).</summary>
    [Benchmark]
    public Task<int> ReadRequest_Binary_32Images_Buffered() => ReadBufferedAsync(_images32Binary);

    /// <summary>As <see cref="ReadRequest_Binary_Image_Streamed"/> for 32 images in one body (19 MB).</summary>
    [Benchmark]
    public Task<int> ReadRequest_Binary_32Images_Streamed() => ReadStreamedAsync(_images32Binary);

    /// <summary>
    /// The gateway's whole read of one image sent chunked (64 KiB reads): the body kept in the buffers it arrived in,
    /// decoded from them into a pooled tensor array, both handed back wiped (the gateway's read since 2026-12-05, third
    /// session; before, <see cref="ReadRequest_Binary_Image_Buffered"/>).
    /// </summary>
    [Benchmark]
    public Task<int> ReadRequest_Binary_Image_Segmented() => ReadSegmentedAsync(_imageBinary);

    /// <summary>As <see cref="ReadRequest_Binary_Image_Segmented"/> for 32 images in one body (19 MB).</summary>
    [Benchmark]
    public Task<int> ReadRequest_Binary_32Images_Segmented() => ReadSegmentedAsync(_images32Binary);

    private async Task<int> ReadSegmentedAsync(EncodedBody body)
    {
        using var stream = new PieceStream(body.Body, 64 * 1024);
        using var received = await HttpBodyReader.ReadSegmentsAsync(stream, null, _batchLimits.MaxBodyBytes, CancellationToken.None).ConfigureAwait(false);
        var lease = _pool.Lease();
        try
        {
            return V2Json.ReadRequest(received.Content, body.HeaderLength!.Value, _batchLimits, lease).Inputs.Count;
        }
        finally
        {
            lease.Release();
        }
    }

    private async Task<int> ReadBufferedAsync(EncodedBody body)
    {
        using var stream = new PieceStream(body.Body, 64 * 1024);
        var (buffer, length) = await HttpBodyReader.ReadPooledAsync(stream, null, _batchLimits.MaxBodyBytes, CancellationToken.None).ConfigureAwait(false);
        var lease = _pool.Lease();
        try
        {
            return V2Json.ReadRequest(buffer.AsSpan(0, length), body.HeaderLength, _batchLimits, lease).Inputs.Count;
        }
        finally
        {
            HttpBodyReader.Return(buffer, length);
            lease.Release();
        }
    }

    private async Task<int> ReadStreamedAsync(EncodedBody body)
    {
        using var stream = new PieceStream(body.Body, 64 * 1024);
        var lease = _pool.Lease();
        try
        {
            return (await V2Json.ReadRequestAsync(stream, null, body.HeaderLength!.Value, _batchLimits, lease, CancellationToken.None).ConfigureAwait(false)).Inputs.Count;
        }
        finally
        {
            lease.Release();
        }
    }

    /// <summary>The gateway's request to the inference app for an image, assembled into one body (before 2026-12-01).</summary>
    [Benchmark]
    public async Task ForwardRequest_Binary_Image_Assembled()
    {
        var encoded = V2Json.WriteRequest(new InferenceRequest { Inputs = _image }, binaryInputs: true, binaryOutputs: true);
        using var content = new ByteArrayContent(encoded.Body);
        await content.CopyToAsync(Stream.Null).ConfigureAwait(false);
    }

    /// <summary>The same request written from the tensor's own array to the connection (<see cref="V2BinaryRequestContent"/>).</summary>
    [Benchmark]
    public async Task ForwardRequest_Binary_Image_Streamed()
    {
        using var content = new V2BinaryRequestContent(new InferenceRequest { Inputs = _image }, binaryOutputs: true);
        await content.CopyToAsync(Stream.Null).ConfigureAwait(false);
    }
}

/// <summary>A read-only stream over an array that returns at most <c>piece</c> bytes a read, as a connection does.</summary>
internal sealed class PieceStream(byte[] data, int piece) : Stream
{
    private int _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => data.Length;

    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = Math.Min(Math.Min(buffer.Length, piece), data.Length - _position);
        data.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
