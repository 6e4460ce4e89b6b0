using ServerlessServe.Local;

namespace ServerlessServe.Integration.Tests.Fixtures;

/// <summary>Where the build under test is: the repository root and the configuration of the test assembly.</summary>
public static class TestBuild
{
    public static string RepositoryRoot { get; } = LocalState.FindRepositoryRoot(AppContext.BaseDirectory)
        ?? throw new InvalidOperationException("Repository root not found above the test assembly.");

    /// <summary>The build configuration of this test assembly (and so of the apps and ssctl it runs): Debug or Release.</summary>
    public static string BuildConfiguration { get; } =
        new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
}
