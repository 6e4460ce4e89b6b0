namespace ServerlessServe.Core.Artifacts.Lifecycle;

/// <summary>Where a model version is in its life, as a model's signed lifecycle document says.</summary>
public enum VersionState
{
    /// <summary>Served, pinned or not. Every version the lifecycle document does not name is active.</summary>
    Active,

    /// <summary>Served only to callers who name it, with <c>Deprecation</c> and <c>Sunset</c> headers, until its <c>until</c>; retired from then on.</summary>
    Deprecated,

    /// <summary>Never served: a request naming it is answered as for a version that does not exist.</summary>
    Retired,
}
