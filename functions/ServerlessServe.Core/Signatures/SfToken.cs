namespace ServerlessServe.Core.Signatures;

/// <summary>An RFC 8941 token (an unquoted name), kept apart from a string.</summary>
internal readonly record struct SfToken(string Value);
