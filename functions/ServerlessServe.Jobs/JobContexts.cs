using ServerlessServe.Core.Serving;

namespace ServerlessServe.Jobs;

// One context type per activity, so each activity composes its own pipeline of the sync path's stage types.

/// <summary>The validate activity's context: contain → resolve → authorize → read → validate → budget → screen.</summary>
public sealed class ValidateItemContext(string requestId, string model, string version) : InferenceContext(requestId, model, version, JobOperation);

/// <summary>The infer activity's context: infer (the inference app).</summary>
public sealed class InferItemContext(string requestId, string model, string version) : InferenceContext(requestId, model, version, JobOperation);

/// <summary>The redact activity's context: redact.</summary>
public sealed class RedactItemContext(string requestId, string model, string version) : InferenceContext(requestId, model, version, JobOperation);

/// <summary>The audit activity's context: audit.</summary>
public sealed class AuditItemContext(string requestId, string model, string version) : InferenceContext(requestId, model, version, JobOperation);

/// <summary>A submission (a job, or an orchestrated model's infer) refused before its job existed: its audit record (audit).</summary>
public sealed class SubmissionRefusalContext(string requestId, string model, string? version, string operation) : InferenceContext(requestId, model, version, operation);
