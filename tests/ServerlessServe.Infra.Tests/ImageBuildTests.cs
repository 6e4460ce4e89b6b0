using System.Text.RegularExpressions;
using ServerlessServe.Infra.Tests.Arm;
using ServerlessServe.Infra.Tests.Bicep;

namespace ServerlessServe.Infra.Tests;

/// <summary>
/// The container images: base images only by digest (infra/images.lock, kept by pin-images.sh, run here with stand-ins
/// for curl and azd), an unprivileged user, remote builds, and the port the ingress targets.
/// </summary>
[Collection(CompiledTemplateCollection.Name)]
public sealed partial class ImageBuildTests(CompiledTemplateFixture fixture) : IDisposable
{
    private const string SdkDigest = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    private const string CudaDigest = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
    private readonly HookRunner _hook = new();

    public void Dispose() => _hook.Dispose();

    public static TheoryData<string> Dockerfiles { get; } = new()
    {
        "functions/ServerlessServe.Inference/Dockerfile",
        "tools/ServerlessServe.Cli/Dockerfile.publisher",
    };

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Dockerfile_BuildsOnlyFromArgumentsWithoutDefaults_AndRunsUnprivileged(string path)
    {
        var text = File.ReadAllText(Path.Combine(BicepCli.RepositoryRoot, path));
        var stages = From().Matches(text).Select(m => m.Groups["stage"].Value).ToHashSet(StringComparer.Ordinal);

        foreach (Match from in From().Matches(text))
        {
            var image = from.Groups["image"].Value;
            // A stage of this file, an argument, or a digest: never a tag that can move.
            if (stages.Contains(image) || image.Contains("@sha256:", StringComparison.Ordinal) || image.StartsWith("runtime-${", StringComparison.Ordinal))
            {
                continue;
            }

            var arg = Argument().Match(image);
            Assert.True(arg.Success, $"{path}: FROM {image} is neither a stage, an argument nor a digest");
            Assert.Matches($@"(?m)^ARG {arg.Groups["name"].Value}\s*$", text);
        }

        var user = Assert.Single(User().Matches(text[text.LastIndexOf("FROM ", StringComparison.Ordinal)..]));
        Assert.NotEqual("0", user.Groups["uid"].Value);
        Assert.NotEqual("root", user.Groups["uid"].Value);
    }

    /// <summary>
    /// The inference image builds from a context of chosen files: every repository-wide build input is among them
    /// (found in review 2026-12-07: without .editorconfig, CS1591 failed every remote build), and global.json, which pins
    /// the development machines' SDK band, is not, in either image.
    /// </summary>
    [Fact]
    public void Images_BuildWithEveryRepositoryWideBuildInput_AndWithoutTheDevelopmentSdkPin()
    {
        var dockerfile = File.ReadAllText(Path.Combine(BicepCli.RepositoryRoot, "functions/ServerlessServe.Inference/Dockerfile"));
        var copied = Regex.Matches(dockerfile, @"(?m)^COPY (?!--from)(?<sources>.+) \S+$").SelectMany(m => m.Groups["sources"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToHashSet(StringComparer.Ordinal);
        var ignored = File.ReadAllLines(Path.Combine(BicepCli.RepositoryRoot, ".dockerignore")).Select(l => l.Trim().TrimEnd('/')).ToHashSet(StringComparer.Ordinal);
        foreach (var input in new[] { ".editorconfig", "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
        {
            if (File.Exists(Path.Combine(BicepCli.RepositoryRoot, input)))
            {
                Assert.Contains(input, copied);
                Assert.DoesNotContain(input, ignored);
            }
        }

        Assert.DoesNotContain("global.json", copied);
        var publisher = File.ReadAllText(Path.Combine(BicepCli.RepositoryRoot, "tools/ServerlessServe.Cli/Dockerfile.publisher"));
        Assert.Matches(@"(?m)^RUN rm -f global\.json && dotnet publish ", publisher);
    }

    [Fact]
    public void InferenceImage_ListensWhereTheIngressPoints_AndIsBuiltRemotelyFromPinnedBases()
    {
        var dockerfile = File.ReadAllText(Path.Combine(BicepCli.RepositoryRoot, "functions/ServerlessServe.Inference/Dockerfile"));
        Assert.Contains("EXPOSE 8080", dockerfile, StringComparison.Ordinal);
        Assert.Equal(2, Regex.Matches(dockerfile, @"ASPNETCORE_URLS=http://\+:8080").Count);

        // The same port before and after azd's first deploy, which swaps the image only, never the ingress: the
        // placeholder of the first provision is told to listen on 8080 as well.
        foreach (var image in new[] { "crtest.azurecr.io/inference:1", string.Empty })
        {
            var parameters = CompiledTemplateFixture.Parameters(vnetEnabled: true);
            parameters["inferenceImageName"] = image;
            var app = Assert.Single(TemplateEvaluator.Evaluate(fixture.Template, parameters), r => r.IsType("Microsoft.App/containerApps"));
            Assert.Equal(8080, app.Body.Get("properties.configuration.ingress.targetPort").AsInteger());
            Assert.Contains(
                app.Body.Get("properties.template.containers")!.AsArray()[0].Get("env").Items(),
                e => e.Get("name").IsString("ASPNETCORE_URLS") && e.Get("value").IsString("http://+:8080"));
        }

        var azureYaml = File.ReadAllText(Path.Combine(BicepCli.RepositoryRoot, "azure.yaml"));
        Assert.Contains("remoteBuild: true", azureYaml, StringComparison.Ordinal);
        foreach (var arg in new[] { "SDK_IMAGE=${SERVERLESSSERVE_SDK_IMAGE}", "FUNCTIONS_IMAGE=${SERVERLESSSERVE_FUNCTIONS_IMAGE}", "CUDA_IMAGE=${SERVERLESSSERVE_CUDA_IMAGE}" })
        {
            Assert.Contains(arg, azureYaml, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task PinImages_FillsEmptyDigestsFromTheRegistries_AndHandsThemToAzd()
    {
        var lockFile = await LockAsync(cudaDigest: string.Empty);
        _hook.Curl["https://mcr.microsoft.com/v2/dotnet/sdk/manifests/10.0"] = $"HTTP/2 200\r\ncontent-type: application/vnd.oci.image.index.v1+json\r\ndocker-content-digest: {SdkDigest}\r\n\r\n";
        _hook.Curl["auth.docker.io/token"] = """{"token":"anon-token","expires_in":300}""";
        _hook.Curl["https://registry-1.docker.io/v2/nvidia/cuda/manifests/13.0.1-cudnn-runtime-ubuntu24.04"] = $"HTTP/1.1 200 OK\r\nDocker-Content-Digest: {CudaDigest}\r\n\r\n";

        var run = await _hook.RunAsync("pin-images.sh", "--azd");

        Assert.True(run.ExitCode == 0, run.Errors);
        var text = await File.ReadAllTextAsync(lockFile);
        Assert.Contains($"SDK_IMAGE_DIGEST={SdkDigest}", text, StringComparison.Ordinal);
        Assert.Contains($"CUDA_IMAGE_DIGEST={CudaDigest}", text, StringComparison.Ordinal);
        // Already pinned: not asked again.
        Assert.DoesNotContain(run.CurlCalls, c => c.Contains("dotnet/aspnet", StringComparison.Ordinal));
        Assert.Contains(run.CurlCalls, c => c.Contains("Authorization: Bearer anon-token", StringComparison.Ordinal) && c.Contains("nvidia/cuda", StringComparison.Ordinal));
        Assert.Equal($"mcr.microsoft.com/dotnet/sdk:10.0@{SdkDigest}", run.Env["SERVERLESSSERVE_SDK_IMAGE"]);
        Assert.Equal($"nvidia/cuda:13.0.1-cudnn-runtime-ubuntu24.04@{CudaDigest}", run.Env["SERVERLESSSERVE_CUDA_IMAGE"]);
        Assert.StartsWith("mcr.microsoft.com/azure-functions/dotnet-isolated:4-dotnet-isolated10.0@sha256:", run.Env["SERVERLESSSERVE_FUNCTIONS_IMAGE"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task PinImages_WithoutAnAnswer_FailsNamingTheImage_AndLeavesTheLock()
    {
        var lockFile = await LockAsync(cudaDigest: string.Empty);
        var before = await File.ReadAllTextAsync(lockFile);
        _hook.Curl["https://mcr.microsoft.com/v2/dotnet/sdk/manifests/10.0"] = "HTTP/2 200\r\n\r\n";

        var run = await _hook.RunAsync("pin-images.sh");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("could not resolve the digest of mcr.microsoft.com/dotnet/sdk:10.0", run.Errors, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllTextAsync(lockFile));
    }

    [Fact]
    public async Task PinImages_Update_ResolvesPinnedTagsAgain()
    {
        var lockFile = await LockAsync(cudaDigest: CudaDigest);
        var newer = "sha256:" + new string('3', 64);
        foreach (var url in new[] { "dotnet/sdk/manifests", "dotnet/aspnet/manifests", "dotnet-isolated/manifests", "nvidia/cuda/manifests" })
        {
            _hook.Curl[url] = $"docker-content-digest: {newer}\r\n";
        }

        _hook.Curl["auth.docker.io/token"] = """{"token":"t"}""";

        var run = await _hook.RunAsync("pin-images.sh", "--update");

        Assert.True(run.ExitCode == 0, run.Errors);
        Assert.Equal(4, Regex.Matches(await File.ReadAllTextAsync(lockFile), Regex.Escape(newer)).Count);
        Assert.Contains("4 digest(s) written", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void ImagesLock_NamesEveryBaseImageTheDockerfilesTake()
    {
        var text = File.ReadAllText(BicepCli.InfraPath("images.lock"));
        foreach (var key in new[] { "SDK_IMAGE", "RUNTIME_IMAGE", "FUNCTIONS_IMAGE", "CUDA_IMAGE" })
        {
            Assert.Matches($"(?m)^{key}=[a-z0-9./-]+:[A-Za-z0-9._-]+$", text);
            Assert.Matches($"(?m)^{key}_DIGEST=(sha256:[0-9a-f]{{64}})?$", text);
        }
    }

    /// <summary>A copy of the real lock with the SDK digest empty, the others set (the CUDA one as given).</summary>
    private async Task<string> LockAsync(string cudaDigest)
    {
        var path = Path.Combine(_hook.Directory, "images.lock");
        var text = await File.ReadAllTextAsync(BicepCli.InfraPath("images.lock"));
        text = Regex.Replace(text, "(?m)^SDK_IMAGE_DIGEST=.*$", "SDK_IMAGE_DIGEST=");
        text = Regex.Replace(text, "(?m)^RUNTIME_IMAGE_DIGEST=.*$", "RUNTIME_IMAGE_DIGEST=sha256:" + new string('4', 64));
        text = Regex.Replace(text, "(?m)^FUNCTIONS_IMAGE_DIGEST=.*$", "FUNCTIONS_IMAGE_DIGEST=sha256:" + new string('5', 64));
        text = Regex.Replace(text, "(?m)^CUDA_IMAGE_DIGEST=.*$", "CUDA_IMAGE_DIGEST=" + cudaDigest);
        await File.WriteAllTextAsync(path, text);
        _hook.Environment["SERVERLESSSERVE_IMAGES_LOCK"] = path;
        return path;
    }

    [GeneratedRegex(@"(?m)^FROM\s+(?:--platform=\S+\s+)?(?<image>\S+)(?:\s+AS\s+(?<stage>\S+))?", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex From();

    [GeneratedRegex(@"^\$\{(?<name>[A-Z_]+)\}$", RegexOptions.CultureInvariant)]
    private static partial Regex Argument();

    [GeneratedRegex(@"(?m)^USER\s+(?<uid>[^:\s]+)", RegexOptions.CultureInvariant)]
    private static partial Regex User();
}
