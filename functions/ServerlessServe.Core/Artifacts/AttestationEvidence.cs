namespace ServerlessServe.Core.Artifacts;

/// <summary>
/// The bytes a version was verified from, kept in memory so they can be checked again while the version serves
/// (<see cref="ModelAttestation"/>): the signed manifest and its signature, the policy, and the profile when pinned.
/// </summary>
public sealed record AttestationEvidence(byte[] ManifestBytes, byte[] SignatureBytes, byte[] PolicyBytes, byte[]? ProfileBytes);
