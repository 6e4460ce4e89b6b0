namespace ServerlessServe.Core.Protocol;

/// <summary>
/// An encoded V2 body. When <see cref="HeaderLength"/> has a value the body is a JSON header of that many bytes
/// followed by binary tensor data: send it as the <c>Inference-Header-Content-Length</c> header.
/// </summary>
public sealed record EncodedBody(byte[] Body, int? HeaderLength, string ContentType)
{
    public const string JsonContentType = "application/json";

    public const string BinaryContentType = "application/octet-stream";

    /// <summary>The HTTP header that carries <see cref="HeaderLength"/>.</summary>
    public const string HeaderLengthHeaderName = "Inference-Header-Content-Length";
}
