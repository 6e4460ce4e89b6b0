namespace ServerlessServe.Local.Fuzz;

/// <summary>One generated request: what was mutated (for the report) and the request itself.</summary>
/// <param name="Index">The case's number in its run; with the run's seed it regenerates the same request.</param>
/// <param name="Mutation">The name of the mutation applied.</param>
/// <param name="Method">HTTP method.</param>
/// <param name="Path">Path relative to the gateway's <c>/api/</c> base, as sent (may be percent-encoded).</param>
/// <param name="Body">The body, or null for none.</param>
/// <param name="Headers">Content headers and request headers to send, beside the bearer token.</param>
public sealed record EdgeFuzzCase(int Index, string Mutation, string Method, string Path, byte[]? Body, IReadOnlyList<KeyValuePair<string, string>> Headers);
