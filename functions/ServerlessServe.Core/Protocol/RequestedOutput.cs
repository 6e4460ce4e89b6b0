namespace ServerlessServe.Core.Protocol;

/// <summary>An output named in a V2 request's <c>outputs</c>, with its optional <c>binary_data</c> parameter.</summary>
public sealed record RequestedOutput(string Name, bool? BinaryData = null);
