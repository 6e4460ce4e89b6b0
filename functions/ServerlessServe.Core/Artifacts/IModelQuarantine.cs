namespace ServerlessServe.Core.Artifacts;

/// <summary>Model versions withdrawn from serving (quarantined, or signed by a revoked key), as the catalog sees them.</summary>
public interface IModelQuarantine
{
    /// <summary>True while <paramref name="version"/> of <paramref name="name"/> is quarantined.</summary>
    bool IsQuarantined(string name, string version);

    /// <summary>True while the model signing key <paramref name="signerKeyId"/> is revoked: no version it signed serves.</summary>
    bool IsSignerRevoked(string signerKeyId);
}
