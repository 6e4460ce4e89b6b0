using System.ComponentModel.DataAnnotations;

namespace ServerlessServe.Core.Protocol;

/// <summary>
/// Size and shape caps applied while reading Open Inference Protocol bodies, before anything is allocated in
/// proportion to what a caller sent. Exceeding <see cref="MaxBodyBytes"/> or <see cref="MaxElementsPerRequest"/>
/// is refused as too large; exceeding any other cap as invalid.
/// </summary>
public sealed class ProtocolLimits
{
    /// <summary>Configuration section the hosts bind these options from.</summary>
    public const string SectionName = "ServerlessServe:Protocol";

    /// <summary>Largest request body in bytes, JSON header and binary section together. Default 16 MiB (16,777,216). Larger: too large.</summary>
    [Range(1, int.MaxValue)]
    public int MaxBodyBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Deepest nesting of JSON objects and arrays, the root object counting as 1. Default 64; depth 65: invalid.</summary>
    [Range(2, 1024)]
    public int MaxJsonDepth { get; set; } = 64;

    /// <summary>Most tensors in <c>inputs</c>, and separately in <c>outputs</c>. Default 64. More: invalid.</summary>
    [Range(1, 4096)]
    public int MaxTensors { get; set; } = 64;

    /// <summary>Most dimensions in one tensor's <c>shape</c>. Default 64. More: invalid.</summary>
    [Range(0, 1024)]
    public int MaxRank { get; set; } = 64;

    /// <summary>Most tensor elements in one body, summed over all tensors. Default 4,194,304 (4 Mi). More: too large.</summary>
    [Range(1, int.MaxValue)]
    public int MaxElementsPerRequest { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// Most BYTES elements in one body, summed over all tensors. Default 262,144 (256 Ki). More: too large. Each BYTES
    /// element is an array of its own once read (about 40 bytes beyond its content, in the gateway and again in the
    /// inference app), so a body of one-byte elements took about ten times its size in memory under the general
    /// element cap alone; this cap holds that overhead to about 10 MiB.
    /// </summary>
    [Range(1, int.MaxValue)]
    public int MaxBytesElementsPerRequest { get; set; } = 256 * 1024;

    /// <summary>Longest single BYTES element in bytes. Default 1 MiB (1,048,576). Longer: invalid.</summary>
    [Range(0, int.MaxValue)]
    public int MaxBytesElementLength { get; set; } = 1024 * 1024;

    /// <summary>Longest request <c>id</c> in characters. Default 256. Longer: invalid.</summary>
    [Range(0, 65536)]
    public int MaxIdLength { get; set; } = 256;

    /// <summary>
    /// Longest tensor or model name in characters. Default 264: every name a manifest may hold (256, docs/artifacts.md)
    /// and the released <c>{name}_classes</c> of a top-k output. Longer: invalid. It was 128 before 2026-12-07, so a model
    /// whose input had a longer name, which publishing accepted and metadata advertised, refused every request.
    /// </summary>
    [Range(1, 65536)]
    public int MaxNameLength { get; set; } = 264;

    /// <summary>
    /// Most bytes of decoded tensor arrays kept for reuse by later requests (<see cref="TensorArrayPool"/>). Default
    /// 32 MiB (33,554,432); 0 allocates every array. Not a limit on requests: arrays in use are not counted.
    /// </summary>
    [Range(0, long.MaxValue)]
    public long PooledTensorBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>
    /// These limits without the body limit, for reading back what the platform wrote itself (a job's step payloads, whose
    /// JSON can outgrow the binary body a caller was allowed); every other limit is kept.
    /// </summary>
    public ProtocolLimits WithoutBodyLimit() => WithBodyLimit(int.MaxValue);

    /// <summary>
    /// The largest binary body a request within these limits becomes once forwarded: <see cref="MaxElementsPerRequest"/>
    /// of the widest, 8-byte, type (a BYTES element's 4-byte length prefix included), plus BYTES content, which is no
    /// more than the caller's <see cref="MaxBodyBytes"/>, plus 1 MiB of JSON header. What the inference app takes from the
    /// gateway, and what the gateway takes back from it. (Before 2026-12-08 the BYTES content was left out: a valid JSON
    /// request with 4 million INT64 zeros and 7 MiB of strings was forwarded at 41 MB and refused 413.)
    /// </summary>
    public int BinaryBodyLimit => (int)Math.Min(int.MaxValue, (MaxElementsPerRequest * 8L) + MaxBodyBytes + (1024 * 1024));

    /// <summary>
    /// The largest answer the gateway takes from the inference app: <see cref="MaxElementsPerRequest"/> of the widest
    /// type plus 1 MiB, or <see cref="MaxBodyBytes"/> when that is larger. A model's outputs owe nothing to the BYTES
    /// content a caller sent, so <see cref="BinaryBodyLimit"/>'s share for it is not added here.
    /// </summary>
    public int ResponseBodyLimit => (int)Math.Min(int.MaxValue, Math.Max(MaxBodyBytes, (MaxElementsPerRequest * 8L) + (1024 * 1024)));

    /// <summary>
    /// The limits the gateway reads the inference app's answer with: a model's outputs are what the model makes, not what
    /// a caller sent, so the caps on a caller's request do not bind them, only the body limit
    /// (<see cref="ResponseBodyLimit"/>) and what fits in it: elements (one byte each at the least), the length of a BYTES
    /// element, 4,096 outputs, names of 1,024 characters. The depth and the count of BYTES elements stay: each is an array
    /// of its own, copied again by redaction, so millions of tiny strings would cost the gateway a gigabyte. With the
    /// request's caps, an output of 21×512×512 FP32 (22 MB, within the body limit), a BYTES element over 1 MiB, more than
    /// 64 outputs or a name over 128 characters was refused as the service unavailable, and a job ran its item again on
    /// every retry (found in review 2026-12-07); what is still past them is a failure, the same on every try.
    /// </summary>
    public ProtocolLimits ForResponses()
    {
        var body = ResponseBodyLimit;
        var copy = WithBodyLimit(body);
        copy.MaxElementsPerRequest = Math.Max(MaxElementsPerRequest, body);
        copy.MaxBytesElementLength = Math.Max(MaxBytesElementLength, body);
        copy.MaxTensors = Math.Max(MaxTensors, 4096);
        copy.MaxNameLength = Math.Max(MaxNameLength, 1024);
        return copy;
    }

    /// <summary>These limits with <see cref="MaxBodyBytes"/> set to <paramref name="maxBodyBytes"/>; every other limit is kept.</summary>
    public ProtocolLimits WithBodyLimit(int maxBodyBytes)
    {
        var copy = (ProtocolLimits)MemberwiseClone();
        copy.MaxBodyBytes = maxBodyBytes;
        return copy;
    }
}
