using System.Diagnostics;
using System.Text.Json;
using ServerlessServe.Integration.Tests.Fixtures;

namespace ServerlessServe.Integration.Tests.Hosting;

/// <summary>
/// Standalone mode maps exactly the functions the Functions host would see: the build's generated
/// <c>functions.metadata</c> and the standalone route table (<c>--list-functions</c>) agree one for one.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class RouteParityTests(StackFixture fixture)
{
    [Theory]
    [InlineData("ServerlessServe.Gateway")]
    [InlineData("ServerlessServe.Inference")]
    public async Task StandaloneRoutes_MatchFunctionsMetadata(string app)
    {
        var bin = Path.Combine(fixture.RepositoryRoot, "functions", app, "bin", fixture.BuildConfiguration, "net10.0");
        var expected = FromMetadata(Path.Combine(bin, "functions.metadata"));
        var actual = await FromStandaloneAsync(Path.Combine(bin, app + ".dll"));

        Assert.NotEmpty(expected);
        Assert.Equal(expected, actual);
    }

    private static SortedSet<string> FromMetadata(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var routes = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var function in document.RootElement.EnumerateArray())
        {
            var trigger = function.GetProperty("bindings").EnumerateArray().Single(b => b.GetProperty("type").GetString() == "httpTrigger");
            var methods = trigger.GetProperty("methods").EnumerateArray().Select(m => m.GetString()!.ToLowerInvariant()).Order(StringComparer.Ordinal);
            routes.Add($"{function.GetProperty("name").GetString()} {string.Join(',', methods)} /api/{trigger.GetProperty("route").GetString()}");
        }

        return routes;
    }

    private static async Task<SortedSet<string>> FromStandaloneAsync(string assembly)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(assembly);
        info.ArgumentList.Add("--list-functions");
        using var process = Process.Start(info)!;
        var stdout = await process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        Assert.Equal(0, process.ExitCode);
        using var document = JsonDocument.Parse(stdout);
        return new SortedSet<string>(
            document.RootElement.EnumerateArray().Select(r =>
                $"{r.GetProperty("name").GetString()} {string.Join(',', r.GetProperty("methods").EnumerateArray().Select(m => m.GetString()))} {r.GetProperty("route").GetString()}"),
            StringComparer.Ordinal);
    }
}
