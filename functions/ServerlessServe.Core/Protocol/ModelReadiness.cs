namespace ServerlessServe.Core.Protocol;

/// <summary>V2 model readiness (<c>GET /v2/models/{model}[/versions/{version}]/ready</c>): ready, or unavailable.</summary>
public sealed record ModelReadiness(string Name, bool Ready);
