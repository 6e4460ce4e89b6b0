using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Fuzz;

/// <summary>
/// The fuzz target: one input is a request body as the read stage sees it. The first byte chooses the form — even: a
/// JSON body; odd: the binary tensor extension, with the next two bytes (little-endian) as
/// <c>Inference-Header-Content-Length</c> — and the rest is the body. A refusal is the expected outcome for bad input;
/// any other exception is a finding.
/// </summary>
public static class RequestReaderTarget
{
    private static readonly ProtocolLimits Limits = new() { MaxBodyBytes = 1024 * 1024, MaxElementsPerRequest = 65_536 };

    /// <summary>Runs one input; throws only on a finding.</summary>
    public static void Run(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }

        int? headerLength = null;
        var body = input[1..];
        if ((input[0] & 1) == 1 && body.Length >= 2)
        {
            headerLength = body[0] | (body[1] << 8);
            body = body[2..];
        }

        try
        {
            V2Json.ReadRequest(body, headerLength, Limits);
        }
        catch (RefusedException)
        {
            // The reader's own refusal (400 or 413 at the edge): the expected answer to bad input.
        }
    }
}
