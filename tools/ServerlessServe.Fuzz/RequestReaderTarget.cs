using System.Runtime.InteropServices;
using System.Text;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Fuzz;

/// <summary>
/// The fuzz target: one input is a request body as the read stage sees it. The first byte chooses the form — even: a
/// JSON body; odd: the binary tensor extension, with the next two bytes (little-endian) as
/// <c>Inference-Header-Content-Length</c> — and the rest is the body. A refusal is the expected outcome for bad input;
/// any other exception is a finding, and so is a body whose outcome differs when its numbers are read token by token
/// instead of from the bytes.
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

        // Numbers are read from the bytes where they can be; token by token the outcome must be the same.
        var fromBytes = Read(body, headerLength, tokenByToken: false);
        var byToken = Read(body, headerLength, tokenByToken: true);
        if (!string.Equals(fromBytes, byToken, StringComparison.Ordinal))
        {
            throw new InvalidOperationException("numbers read from the bytes give another outcome than token by token");
        }
    }

    /// <summary>The outcome of one read, as text: every tensor's name, datatype, shape and bytes, or the refusal.</summary>
    private static string Read(ReadOnlySpan<byte> body, int? headerLength, bool tokenByToken)
    {
        V2BodyReader.NumbersTokenByToken = tokenByToken;
        try
        {
            var request = V2Json.ReadRequest(body, headerLength, Limits);
            var text = new StringBuilder(request.Id);
            foreach (var input in request.Inputs)
            {
                text.Append('|').Append(input.Name).Append(' ').Append(input.DataType).Append(' ').AppendJoin(',', input.Shape).Append(' ')
                    .Append(input.Data switch
                    {
                        byte[][] elements => string.Join(',', elements.Select(Convert.ToHexString)),
                        Half[] halves => Convert.ToHexString(MemoryMarshal.AsBytes(halves.AsSpan())),
                        var data => Convert.ToHexString(Bytes(data)),
                    });
            }

            return text.ToString();
        }
        catch (RefusedException refused)
        {
            // The reader's own refusal (400 or 413 at the edge): the expected answer to bad input.
            return $"refused {refused.Kind}: {refused.Message}";
        }
        finally
        {
            V2BodyReader.NumbersTokenByToken = false;
        }

        static byte[] Bytes(Array data)
        {
            var bytes = new byte[Buffer.ByteLength(data)];
            Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
            return bytes;
        }
    }
}
