namespace ServerlessServe.Core.Serving;

/// <summary>
/// A request body as the HTTP edge hands it to the read stage, without HTTP types: the stream, its declared length, and
/// the headers that say how to read it. Lives only in-process (a durable job carries the parsed request instead).
/// </summary>
/// <param name="Content">The body stream; read once.</param>
/// <param name="ContentLength">The declared <c>Content-Length</c>, or null (chunked).</param>
/// <param name="ContentType">The <c>Content-Type</c> header, or null when absent.</param>
/// <param name="ContentEncoding">The <c>Content-Encoding</c> header, or null when absent.</param>
/// <param name="InferenceHeaderLength">The raw <c>Inference-Header-Content-Length</c> header, or null when absent.</param>
public sealed record IncomingBody(Stream Content, long? ContentLength, string? ContentType, string? ContentEncoding, string? InferenceHeaderLength);
