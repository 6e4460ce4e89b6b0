namespace ServerlessServe.Core.Artifacts;

/// <summary>Model versions withdrawn from serving (quarantined), as the catalog sees them.</summary>
public interface IModelQuarantine
{
    /// <summary>True while <paramref name="version"/> of <paramref name="name"/> is quarantined.</summary>
    bool IsQuarantined(string name, string version);
}
