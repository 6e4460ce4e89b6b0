namespace ServerlessServe.Core.Artifacts;

/// <summary>
/// A fully verified model version together with its <c>model.onnx</c> bytes: signature, digests, policy and the
/// external-data check have all passed, so the bytes may be handed to ONNX Runtime.
/// </summary>
public sealed record VerifiedModel(VerifiedModelVersion Version, byte[] ModelBytes);
