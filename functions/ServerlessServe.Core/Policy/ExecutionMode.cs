namespace ServerlessServe.Core.Policy;

/// <summary>How the gateway runs a model's plain <c>/infer</c> (policy field <c>execution</c>).</summary>
public enum ExecutionMode
{
    /// <summary>Every stage within the request (the default).</summary>
    Inline,

    /// <summary>Through the jobs orchestration: the same activities as a one-item job, waited for up to a configured time.</summary>
    Orchestrated,
}
