namespace ServerlessServe.Core.Signatures;

/// <summary>A request-signing public key bound to a caller: its pseudonym, the key id it signs with, the key (SPKI DER), and when it stops counting.</summary>
public sealed record RequestKey(string CallerPseudonym, string KeyId, byte[] SubjectPublicKeyInfo, DateTimeOffset Created, DateTimeOffset? Expires)
{
    /// <summary>True while the key may verify requests.</summary>
    public bool InForce(DateTimeOffset now) => Expires is null || Expires > now;
}
