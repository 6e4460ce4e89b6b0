using ServerlessServe.Core.Policy;

namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>
/// What an alarm about a caller's state says besides the state: the policy in force (mode and action) and the model
/// version of the request that last touched the state.
/// </summary>
/// <param name="Policy">The policy's <c>defenses.extraction</c>.</param>
/// <param name="ModelVersion">The version that request was served by.</param>
public sealed record ExtractionSubject(ExtractionPolicy Policy, string ModelVersion);
