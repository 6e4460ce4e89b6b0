using System.Text;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Tests.Protocol;

/// <summary>
/// What a body declares (its shapes) must not make the reader allocate more than the body could fill: a tiny body
/// claiming millions of elements is refused before the tensor array exists.
/// </summary>
public class V2JsonAllocationTests
{
    // Generous for the exception, its message and the reader's own small objects; the tensors under test are 4-32 MiB.
    private const long SmallAllocation = 256 * 1024;

    private static readonly ProtocolLimits Limits = new();

    // The shapes below declare more elements than the BYTES cap: with it raised to the general cap, a BYTES tensor is
    // held to the bytes the body has left as every other type is (the cap itself: its own test).
    private static readonly ProtocolLimits BytesUncapped = new() { MaxBytesElementsPerRequest = new ProtocolLimits().MaxElementsPerRequest };

    public static TheoryData<string> AllDataTypes => [.. Enum.GetValues<TensorDataType>().Select(t => t.ToWire())];

    [Fact]
    public void ReadRequest_TinyBodyDeclaringHugeFp64Shape_Refused400WithoutAllocatingTheShape()
    {
        var body = """{"inputs":[{"name":"x","shape":[4194304],"datatype":"FP64","data":[]}]}"""u8.ToArray();
        Assert.Equal(71, body.Length);

        var (error, allocated) = RefusedMeasuringAllocation(body, null);

        Assert.Equal(RefusalKind.Invalid, error.Kind);
        Assert.Equal("inputs[0]: data does not match shape", error.Message);
        Assert.True(allocated < SmallAllocation, $"allocated {allocated} bytes for a {body.Length}-byte body");
    }

    [Theory]
    [MemberData(nameof(AllDataTypes))]
    public void ReadRequest_DeclaredShapeBeyondJsonBytes_Refused400WithoutAllocating(string datatype)
    {
        // Flat, nested, and data before shape (parsed later from a saved reader): all bounded by the bytes left.
        string[] bodies =
        [
            "{\"inputs\":[{\"name\":\"x\",\"shape\":[4194304],\"datatype\":\"" + datatype + "\",\"data\":[]}]}",
            "{\"inputs\":[{\"name\":\"x\",\"shape\":[2048,2048],\"datatype\":\"" + datatype + "\",\"data\":[[]]}]}",
            "{\"inputs\":[{\"name\":\"x\",\"data\":[],\"shape\":[4194304],\"datatype\":\"" + datatype + "\"}]}",
        ];

        foreach (var json in bodies)
        {
            var (error, allocated) = RefusedMeasuringAllocation(Encoding.UTF8.GetBytes(json), null, BytesUncapped);

            Assert.Equal(RefusalKind.Invalid, error.Kind);
            Assert.True(allocated < SmallAllocation, $"{datatype}: allocated {allocated} bytes for {json}");
        }
    }

    [Fact]
    public void ReadResponse_DeclaredShapeBeyondJsonBytes_Refused400WithoutAllocating()
    {
        var body = """{"model_name":"m","outputs":[{"name":"y","shape":[4194304],"datatype":"INT64","data":[1]}]}"""u8.ToArray();
        Assert.Throws<RefusedException>(() => V2Json.ReadResponse(body, null, Limits)); // warm up

        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<RefusedException>(() => V2Json.ReadResponse(body, null, Limits));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(RefusalKind.Invalid, error.Kind);
        Assert.True(allocated < SmallAllocation, $"allocated {allocated} bytes");
    }

    [Theory]
    [InlineData("BOOL", "true", "false")]
    [InlineData("BYTES", "\"\"", "\"\"")]
    [InlineData("UINT8", "0", "9")]
    [InlineData("FP64", "0", "1")]
    public void ReadRequest_DensestPossibleData_StillAccepted(string datatype, string first, string second)
    {
        // The bound is exact: the shortest literal plus one separator per element, with nothing to spare at the end
        // of the array. The same data nested takes more bytes and is accepted too.
        const int count = 1000;
        var flat = string.Join(",", Enumerable.Range(0, count).Select(i => i % 2 == 0 ? first : second));
        var rows = string.Join(",", Enumerable.Range(0, count / 10).Select(_ => "[" + string.Join(",", Enumerable.Range(0, 10).Select(i => i % 2 == 0 ? first : second)) + "]"));

        var flatRequest = ProtocolAssert.Read("{\"inputs\":[{\"name\":\"x\",\"shape\":[" + count + "],\"datatype\":\"" + datatype + "\",\"data\":[" + flat + "]}]}");
        var nestedRequest = ProtocolAssert.Read("{\"inputs\":[{\"name\":\"x\",\"shape\":[" + (count / 10) + ",10],\"datatype\":\"" + datatype + "\",\"data\":[" + rows + "]}]}");

        Assert.Equal(count, flatRequest.Inputs[0].Data.Length);
        Assert.Equal(count, nestedRequest.Inputs[0].Data.Length);
    }

    [Fact]
    public void ReadRequest_DataJustShortOfShape_Refused400()
    {
        // One element missing from the densest form: caught by the byte bound (or the count), never accepted.
        var data = string.Join(",", Enumerable.Repeat("0", 9));

        ProtocolAssert.Refused(ProtocolAssert.OneInput("\"name\":\"x\",\"shape\":[10],\"datatype\":\"INT8\",\"data\":[" + data + "]"), 400);
    }

    [Theory]
    [InlineData("FP64", 8)]
    [InlineData("BOOL", 1)]
    [InlineData("BYTES", 4)]
    public void ReadRequest_BinaryShapeBeyondBinaryBytes_Refused400WithoutAllocating(string datatype, int present)
    {
        var header = Encoding.UTF8.GetBytes(
            "{\"inputs\":[{\"name\":\"x\",\"shape\":[4194304],\"datatype\":\"" + datatype + "\",\"parameters\":{\"binary_data_size\":" + present + "}}]}");
        byte[] body = [.. header, .. new byte[present]];

        var (error, allocated) = RefusedMeasuringAllocation(body, header.Length, BytesUncapped);

        Assert.Equal(RefusalKind.Invalid, error.Kind);
        Assert.True(allocated < SmallAllocation, $"allocated {allocated} bytes");
    }

    /// <summary>
    /// One-byte BYTES elements, as JSON (4 bytes each: <c>"a",</c>) and binary (5 bytes each: a length and the byte), one
    /// past the BYTES element cap: refused 413 before the tensor is built. Under the general element cap alone a 16 MiB
    /// body of them became about 160 MB of arrays, ten times its size, before the model's schema was looked at (review,
    /// 2026-12-07). At the cap the same body is read, its arrays about ten times its size.
    /// </summary>
    [Fact]
    public void ReadRequest_BytesElementsPastTheirCap_Refused413WithoutBuildingThem()
    {
        var count = Limits.MaxBytesElementsPerRequest + 1;
        var json = Encoding.UTF8.GetBytes(
            "{\"inputs\":[{\"name\":\"s\",\"shape\":[" + count + "],\"datatype\":\"BYTES\",\"data\":[" + string.Join(',', Enumerable.Repeat("\"a\"", count)) + "]}]}");
        var header = Encoding.UTF8.GetBytes(
            "{\"inputs\":[{\"name\":\"s\",\"shape\":[" + count + "],\"datatype\":\"BYTES\",\"parameters\":{\"binary_data_size\":" + (count * 5) + "}}]}");
        var binary = header.Concat(Enumerable.Repeat(new byte[] { 1, 0, 0, 0, (byte)'a' }, count).SelectMany(b => b)).ToArray();

        foreach (var (body, headerLength) in new[] { (json, (int?)null), (binary, header.Length) })
        {
            var (error, allocated) = RefusedMeasuringAllocation(body, headerLength);

            Assert.Equal(RefusalKind.TooLarge, error.Kind);
            Assert.Equal($"inputs[0]: the request holds more than {Limits.MaxBytesElementsPerRequest} BYTES elements", error.Message);
            Assert.True(allocated < body.Length, $"allocated {allocated} bytes for a {body.Length}-byte body");
        }

        var atTheCap = Encoding.UTF8.GetBytes(
            "{\"inputs\":[{\"name\":\"s\",\"shape\":[" + (count - 1) + "],\"datatype\":\"BYTES\",\"data\":[" + string.Join(',', Enumerable.Repeat("\"a\"", count - 1)) + "]}]}");
        Assert.Equal(count - 1, V2Json.ReadRequest(atTheCap, null, Limits).Inputs[0].Data.Length);
    }

    private static (RefusedException Error, long Allocated) RefusedMeasuringAllocation(byte[] body, int? headerLength, ProtocolLimits? limits = null)
    {
        limits ??= Limits;

        // Warm up once so that JIT and static initialisation do not count.
        Assert.Throws<RefusedException>(() => V2Json.ReadRequest(body, headerLength, limits));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<RefusedException>(() => V2Json.ReadRequest(body, headerLength, limits));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        return (error, allocated);
    }
}
