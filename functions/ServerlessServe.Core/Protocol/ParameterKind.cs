namespace ServerlessServe.Core.Protocol;

/// <summary>The JSON type a V2 parameter value had.</summary>
public enum ParameterKind
{
    String,
    Int64,
    Double,
    Boolean,
}
