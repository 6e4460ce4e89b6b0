namespace ServerlessServe.Local;

/// <summary>
/// A running inference app and the gateway in front of it, under one host. Disposing stops the gateway, then the
/// inference app.
/// </summary>
public sealed class AppPair : IAsyncDisposable
{
    internal AppPair(AppHost host, int gatewayPort, int inferencePort, string gatewayLog, string inferenceLog)
    {
        Host = host;
        GatewayPort = gatewayPort;
        InferencePort = inferencePort;
        GatewayLog = gatewayLog;
        InferenceLog = inferenceLog;
    }

    public AppHost Host { get; }

    public int GatewayPort { get; }

    public int InferencePort { get; }

    /// <summary>The V2 base URL clients use, e.g. <c>http://127.0.0.1:7071/api/</c>.</summary>
    public Uri GatewayBaseUrl => new($"http://127.0.0.1:{GatewayPort}/api/");

    public Uri InferenceBaseUrl => new($"http://127.0.0.1:{InferencePort}/api/");

    public string GatewayLog { get; }

    public string InferenceLog { get; }

    internal ChildProcess? Gateway { get; set; }

    /// <summary>The extra gateway settings this pair was started with (for a restart).</summary>
    internal IReadOnlyDictionary<string, string> GatewaySettings { get; set; } = new Dictionary<string, string>();

    internal ChildProcess? Inference { get; set; }

    /// <summary>Waits until either app exits.</summary>
    public async Task WaitForAnyExitAsync(CancellationToken cancellationToken)
    {
        await Task.WhenAny(Gateway!.WaitForExitAsync(cancellationToken), Inference!.WaitForExitAsync(cancellationToken)).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
    }

    public async ValueTask DisposeAsync()
    {
        if (Gateway is not null)
        {
            await Gateway.DisposeAsync().ConfigureAwait(false);
        }

        if (Inference is not null)
        {
            await Inference.DisposeAsync().ConfigureAwait(false);
        }
    }
}
