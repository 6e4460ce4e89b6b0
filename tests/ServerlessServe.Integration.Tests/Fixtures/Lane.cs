using ServerlessServe.Local;

namespace ServerlessServe.Integration.Tests.Fixtures;

/// <summary>
/// Which host this test assembly runs the apps under. The same sources build two assemblies:
/// <c>ServerlessServe.Integration.Tests</c> (standalone) and <c>ServerlessServe.Integration.FunctionsHost.Tests</c>
/// (the real Azure Functions host, compiled with <c>FUNCTIONS_HOST_LANE</c>).
/// </summary>
public static class Lane
{
    /// <summary>Set to 1 (CI does) to make a missing Functions host fail the host lane instead of skipping it.</summary>
    public const string RequireHostVariable = "SERVERLESSSERVE_REQUIRE_FUNCTIONS_HOST";

#if FUNCTIONS_HOST_LANE
    public static AppHost Host { get; } = AppHost.Functions;
#else
    public static AppHost Host { get; } = AppHost.Standalone;
#endif

    /// <summary>
    /// Why this lane's tests cannot run on this machine (the Functions host is not there and not required), or null.
    /// Every stack test is skipped with this reason, so a run without the host says so instead of passing silently.
    /// </summary>
    public static string? SkipReason { get; } = FindSkipReason();

    /// <summary>The Functions host for this lane (null in the standalone lane).</summary>
    public static FunctionsHost? FunctionsHost(string repositoryRoot)
    {
        if (Host != AppHost.Functions)
        {
            return null;
        }

        return ServerlessServe.Local.FunctionsHost.Locate(repositoryRoot, null, out var reason)
            ?? throw new InvalidOperationException($"The Functions host lane cannot run: {reason}");
    }

    private static string? FindSkipReason()
    {
        if (Host != AppHost.Functions || Environment.GetEnvironmentVariable(RequireHostVariable) == "1")
        {
            return null;
        }

        var root = LocalState.FindRepositoryRoot(AppContext.BaseDirectory) ?? AppContext.BaseDirectory;
        return ServerlessServe.Local.FunctionsHost.Locate(root, null, out var reason) is null
            ? $"Functions host lane did not run: {reason} ({RequireHostVariable}=1 makes this a failure; CI sets it)."
            : null;
    }
}

/// <summary>A test against the local stack in this assembly's lane; skipped with <see cref="Lane.SkipReason"/> when the lane cannot run.</summary>
public sealed class StackFactAttribute : FactAttribute
{
    public StackFactAttribute() => Skip = Lane.SkipReason!;
}

/// <summary>A theory against the local stack in this assembly's lane; skipped with <see cref="Lane.SkipReason"/> when the lane cannot run.</summary>
public sealed class StackTheoryAttribute : TheoryAttribute
{
    public StackTheoryAttribute() => Skip = Lane.SkipReason!;
}
