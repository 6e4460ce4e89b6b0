namespace ServerlessServe.Core.Artifacts;

/// <summary>No complete version (manifest.json present) with this name and version in the store.</summary>
public sealed class ModelNotFoundException : Exception
{
    public ModelNotFoundException()
        : base("model version not found")
    {
    }

    public ModelNotFoundException(string message)
        : base(message)
    {
    }

    public ModelNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
