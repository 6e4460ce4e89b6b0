namespace ServerlessServe.Local;

/// <summary>Which host runs the Function Apps of the local stack.</summary>
public enum AppHost
{
    /// <summary>Each app serves HTTP itself on Kestrel (<c>dotnet App.dll --urls ...</c>); no Functions host needed.</summary>
    Standalone,

    /// <summary>
    /// The real Azure Functions host (as <c>func start</c> and Azure run it) starts each app as its isolated worker.
    /// </summary>
    Functions,
}
