namespace ServerlessServe.Core.Artifacts.Lifecycle;

/// <summary>
/// A model's lifecycle as an instance holds it: the document in force and the highest sequence accepted. A null
/// <see cref="Document"/> with a sequence above 0 means the document in force was signed by a key revoked since and no
/// newer valid one exists: the model serves nothing until one is published.
/// </summary>
public sealed record LifecycleEntry(ModelLifecycle? Document, long Sequence)
{
    /// <summary>True when the model's lifecycle cannot be trusted and none of its versions serves.</summary>
    public bool Withdrawn => Document is null && Sequence > 0;
}
