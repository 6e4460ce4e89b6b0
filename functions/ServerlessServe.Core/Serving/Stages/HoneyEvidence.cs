namespace ServerlessServe.Core.Serving.Stages;

/// <summary>The evidence of a honey hit: what the request was (<c>infer</c>, <c>job</c>, or <c>model</c> for metadata, readiness and job submission).</summary>
internal static class HoneyEvidence
{
    public static IReadOnlyDictionary<string, string> For(ModelRequestContext context) =>
        new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["operation"] = (context as InferenceContext)?.Operation ?? "model",
        };
}
