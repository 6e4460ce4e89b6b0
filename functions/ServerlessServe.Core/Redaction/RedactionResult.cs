using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Redaction;

/// <summary>
/// What the redact stage releases: the hardened and redacted outputs, and counts by placeholder name (e.g. <c>EMAIL</c>,
/// <c>BINARY</c>) plus <see cref="ResponseRedactor.HardenedOutputs"/>. Only non-zero counts are present.
/// </summary>
public sealed record RedactionResult(IReadOnlyList<Tensor> Outputs, IReadOnlyDictionary<string, int> Counts);
