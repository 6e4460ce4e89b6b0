using ServerlessServe.Integration.Tests.Fixtures;
using ServerlessServe.Local;

namespace ServerlessServe.Integration.Tests.HostLane;

/// <summary>
/// Tests that start a whole stack of their own and use nothing of the lane's: they run beside the stack collection
/// instead of one after another with it (the lane's one other collection, xunit.runner.json), which took about 80 s
/// off the lane's time, the longest of a CI run (docs/design.md, "Tests").
/// </summary>
[CollectionDefinition(Name)]
public sealed class OwnStackCollection
{
    public const string Name = "own stack";
}

/// <summary>
/// <c>ssctl up --host functions</c> runs the local stack under the real host and serves the README's request (with
/// Azurite in memory, as every test's: the launcher's tests cover its data on disk).
/// </summary>
[Collection(OwnStackCollection.Name)]
public sealed class SsctlUpTests : IDisposable
{
    private readonly DirectoryInfo _state = Directory.CreateTempSubdirectory("serverlessserve-up-functions-");

    [StackFact]
    public async Task UpUnderTheFunctionsHost_ServesTheReadmeRequest()
    {
        // It waits until the lane's stack tests reach their jobs tests (or end). Started as soon as the stack was up, it
        // took 260-305 s beside the stack tests in the CPU-bound first ten minutes of a CI run, when every test project
        // shares the two cores; the jobs tests leave them partly idle (docs/design.md, "Tests"). (A failed start is the
        // stack tests' failure to report, not this one's.)
        await StackFixture.WaitForJobsAsync(noStackWithin: TimeSpan.FromSeconds(30));

        // Every port is picked free, the admin plane's too (its default, 7074, may be held by a stack a developer runs),
        // and the blob port with the two after it (ssctl's queue and table ports). A picked port can still be taken
        // before ssctl binds it by another program, which ssctl reports before starting anything: pick again then.
        // Running beside the lane's tests on a CI machine that runs every test project at once, three hosts may take
        // 30-60 s each to start.
        Ssctl.Result result;
        for (var attempt = 1; ; attempt++)
        {
            result = await Ssctl.RunAsync(
                TimeSpan.FromMinutes(6),
                "up", "--host", "functions", "--no-build", "-c", TestBuild.BuildConfiguration, "--skip-resnet", "--azurite-in-memory", "--exit-when-ready",
                "--state", _state.FullName, "--port", FreePorts.Next().ToString(), "--inference-port", FreePorts.Next().ToString(),
                "--admin-port", FreePorts.Next().ToString(), "--issuer-port", FreePorts.Next().ToString(), "--blob-port", FreePorts.NextRun(3).ToString());
            if (result.ExitCode != 2 || !result.Output.Contains("is in use", StringComparison.Ordinal) || attempt == 3)
            {
                break;
            }
        }

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("Azure Functions host", result.Output, StringComparison.Ordinal);
        Assert.Contains("(in memory: gone when it stops)", result.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_state.FullName, "azurite")) && Directory.EnumerateFileSystemEntries(Path.Combine(_state.FullName, "azurite")).Any(), "Azurite wrote to the state folder");
        Assert.Contains("\"model_name\":\"customer-notes\"", result.Output, StringComparison.Ordinal);
        Assert.Contains("[EMAIL]", result.Output, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (StackFixture.KeepState)
        {
            return;
        }

        try
        {
            _state.Delete(recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp folder.
        }
    }
}
