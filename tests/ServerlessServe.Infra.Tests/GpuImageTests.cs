using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using ServerlessServe.Infra.Tests.Bicep;

namespace ServerlessServe.Infra.Tests;

/// <summary>
/// The GPU inference image's CUDA matches what ONNX Runtime's CUDA provider is linked against: the provider library of
/// the pinned <c>Microsoft.ML.OnnxRuntime.Gpu.Linux</c> package is read (its ELF dynamic section), and the CUDA image in
/// infra/images.lock must carry the same CUDA major and a cuDNN. A CUDA 12 image under a CUDA 13 provider would leave the
/// app with no provider at all (and, with CPU fallback off, serving no model).
/// </summary>
public sealed partial class GpuImageTests
{
    [Fact]
    public void CudaImage_SameCudaMajorAsTheOnnxRuntimeCudaProvider()
    {
        var needed = NeededLibraries(ProviderLibrary());
        var cudart = Assert.Single(needed, n => n.StartsWith("libcudart.so.", StringComparison.Ordinal));
        var providerMajor = int.Parse(cudart["libcudart.so.".Length..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains($"libcublas.so.{providerMajor}", needed);

        var image = Regex.Match(File.ReadAllText(BicepCli.InfraPath("images.lock")), "(?m)^CUDA_IMAGE=(?<image>.+)$").Groups["image"].Value;
        var tag = CudaTag().Match(image);

        Assert.True(tag.Success, $"CUDA_IMAGE is not an nvidia/cuda cuDNN runtime image: {image}");
        Assert.Equal(providerMajor, int.Parse(tag.Groups["major"].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void GpuOnnxRuntime_ReadsTheTelemetrySwitchTheAppsSet()
    {
        // The GPU image's ONNX Runtime carries the same telemetry uploader as the CPU build (the integration lanes run
        // the CPU build with the switch set by the app: OnnxRuntimeTelemetryTests). It cannot run here, so check that it
        // reads the same variable: were it renamed in an update, the app's switch would stop working on the GPU.
        const string Variable = "ORT_DISABLE_TELEMETRY"; // ServerlessServe.Onnx.OnnxRuntimeTelemetry.Variable
        var library = File.ReadAllBytes(Path.Combine(GpuPackage(), "runtimes", "linux-x64", "native", "libonnxruntime.so"));
        var uploads = library.AsSpan().IndexOf("events.data.microsoft.com"u8) >= 0;

        Assert.True(
            !uploads || library.AsSpan().IndexOf(Encoding.ASCII.GetBytes(Variable + "\0")) >= 0,
            $"the GPU package's ONNX Runtime has a telemetry uploader but does not read {Variable}");
    }

    [Fact]
    public void NeededLibraries_ReadsTheDynamicSection()
    {
        // The reader itself, on a library every Linux .NET runtime has: its native shim depends on libc.
        var native = Path.Combine(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "libSystem.Native.so");

        var needed = NeededLibraries(native);

        Assert.Contains("libc.so.6", needed);
        Assert.Throws<InvalidDataException>(() => NeededLibraries(BicepCli.InfraPath("images.lock")));
    }

    private static string GpuPackage() =>
        typeof(GpuImageTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "OnnxRuntimeGpuPath").Value ?? string.Empty;

    private static string ProviderLibrary()
    {
        var path = Path.Combine(GpuPackage(), "runtimes", "linux-x64", "native", "libonnxruntime_providers_cuda.so");
        Assert.True(File.Exists(path), $"the ONNX Runtime GPU package was not restored: {path}");
        return path;
    }

    /// <summary>The DT_NEEDED entries of a 64-bit little-endian ELF shared library.</summary>
    internal static IReadOnlyList<string> NeededLibraries(string path)
    {
        using var file = File.OpenRead(path);
        using var reader = new BinaryReader(file);
        var ident = reader.ReadBytes(16);
        if (ident.Length < 16 || ident[0] != 0x7f || ident[1] != (byte)'E' || ident[2] != (byte)'L' || ident[3] != (byte)'F' || ident[4] != 2 || ident[5] != 1)
        {
            throw new InvalidDataException($"not a 64-bit little-endian ELF file: {path}");
        }

        file.Position = 0x28;
        var sectionsAt = reader.ReadInt64();
        file.Position = 0x3A;
        var sectionSize = reader.ReadUInt16();
        var sectionCount = reader.ReadUInt16();

        var sections = new List<(uint Type, long Offset, long Size, uint Link)>();
        for (var i = 0; i < sectionCount; i++)
        {
            file.Position = sectionsAt + ((long)i * sectionSize);
            reader.ReadUInt32();
            var type = reader.ReadUInt32();
            reader.ReadUInt64();
            reader.ReadUInt64();
            var offset = reader.ReadInt64();
            var size = reader.ReadInt64();
            var link = reader.ReadUInt32();
            sections.Add((type, offset, size, link));
        }

        const uint Dynamic = 6;
        const long Needed = 1;
        var dynamic = sections.Single(s => s.Type == Dynamic);
        var strings = sections[(int)dynamic.Link];
        file.Position = strings.Offset;
        var table = reader.ReadBytes((int)strings.Size);

        var names = new List<string>();
        for (var at = dynamic.Offset; at + 16 <= dynamic.Offset + dynamic.Size; at += 16)
        {
            file.Position = at;
            var tag = reader.ReadInt64();
            var value = reader.ReadInt64();
            if (tag == 0)
            {
                break;
            }

            if (tag == Needed)
            {
                var end = Array.IndexOf(table, (byte)0, (int)value);
                names.Add(Encoding.ASCII.GetString(table, (int)value, end - (int)value));
            }
        }

        return names;
    }

    [GeneratedRegex(@"^nvidia/cuda:(?<major>\d+)\.\d+\.\d+-cudnn-runtime-ubuntu\d+\.\d+$")]
    private static partial Regex CudaTag();
}
