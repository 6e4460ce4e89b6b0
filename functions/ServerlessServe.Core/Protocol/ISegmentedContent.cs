using System.Buffers;

namespace ServerlessServe.Core.Protocol;

/// <summary>
/// An HTTP body that can hand over its exact bytes again, in order, as spans of memory it already holds. A handler
/// that must read a body before it is sent (the gateway's canary egress search) reads it this way; through
/// <see cref="HttpContent.ReadAsStreamAsync()"/> the content would first be copied into a buffer of the body's size.
/// </summary>
public interface ISegmentedContent
{
    /// <summary>
    /// The body's length in bytes, known whether or not it is declared in <c>Content-Length</c> (a body sent chunked
    /// declares none).
    /// </summary>
    long Length { get; }

    /// <summary>
    /// Calls <paramref name="visit"/> with each segment of the body in order; the segments joined are the bytes that
    /// go on the wire. A segment is valid only during its call.
    /// </summary>
    void VisitSegments<TState>(ReadOnlySpanAction<byte, TState> visit, TState state);
}
