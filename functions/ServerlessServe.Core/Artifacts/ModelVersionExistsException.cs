namespace ServerlessServe.Core.Artifacts;

/// <summary>Publishing a version that already exists (versions are immutable): the model store refuses to overwrite it.</summary>
public sealed class ModelVersionExistsException : Exception
{
    public ModelVersionExistsException(string name, string version, string message)
        : base(message)
    {
        Name = name;
        Version = version;
    }

    public ModelVersionExistsException()
        : this(string.Empty, string.Empty, "model version already exists")
    {
    }

    public ModelVersionExistsException(string message)
        : this(string.Empty, string.Empty, message)
    {
    }

    public ModelVersionExistsException(string message, Exception innerException)
        : base(message, innerException)
    {
        Name = string.Empty;
        Version = string.Empty;
    }

    public string Name { get; }

    public string Version { get; }
}
