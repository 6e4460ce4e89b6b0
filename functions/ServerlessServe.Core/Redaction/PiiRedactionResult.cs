namespace ServerlessServe.Core.Redaction;

/// <summary>Redacted text and the number of replacements by placeholder name (e.g. <c>EMAIL</c>).</summary>
internal sealed record PiiRedactionResult(string Text, IReadOnlyDictionary<string, int> Counts);
