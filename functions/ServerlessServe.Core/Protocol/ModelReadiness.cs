namespace ServerlessServe.Core.Protocol;

/// <summary>V2 model readiness (<c>GET /v2/models/{model}[/versions/{version}]/ready</c>): 200 when ready, 503 otherwise.</summary>
public sealed record ModelReadiness(string Name, bool Ready);
