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
/// instead of from the bytes. A body that reads is then written back as a JSON response, whole arrays and number by
/// number: a different outcome is a finding, and so is a response that does not read back as the same tensors.
/// </summary>
public static class RequestReaderTarget
{
    private static readonly ProtocolLimits Limits = new() { MaxBodyBytes = 1024 * 1024, MaxElementsPerRequest = 65_536 };

    // Written as JSON, a tensor read from a 1 MB binary body can take up to 25 bytes an element.
    private static readonly ProtocolLimits ResponseLimits = new() { MaxBodyBytes = 32 * 1024 * 1024, MaxElementsPerRequest = 65_536 };

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
        var fromBytes = Read(body, headerLength, tokenByToken: false, out var request);
        var byToken = Read(body, headerLength, tokenByToken: true, out _);
        if (!string.Equals(fromBytes, byToken, StringComparison.Ordinal))
        {
            throw new InvalidOperationException("numbers read from the bytes give another outcome than token by token");
        }

        if (request is not null)
        {
            WriteBack(request, fromBytes);
        }
    }

    /// <summary>
    /// Writes <paramref name="request"/>'s inputs back as a JSON response's outputs, both ways; a JSON response must read
    /// back as the tensors it was written from (<paramref name="read"/>, their description).
    /// </summary>
    private static void WriteBack(InferenceRequest request, string read)
    {
        var response = new InferenceResponse { ModelName = "m", Id = request.Id, Outputs = request.Inputs };
        var whole = Write(response, byElement: false, out var body);
        var byElement = Write(response, byElement: true, out _);
        if (!string.Equals(whole, byElement, StringComparison.Ordinal))
        {
            throw new InvalidOperationException("numbers written as whole arrays give another response than number by number");
        }

        if (body is not null && !string.Equals(Describe(V2Json.ReadResponse(body, null, ResponseLimits).Outputs, request.Id), read, StringComparison.Ordinal))
        {
            throw new InvalidOperationException("a JSON response does not read back as the tensors it was written from");
        }
    }

    private static string Write(InferenceResponse response, bool byElement, out byte[]? body)
    {
        V2BodyWriter.NumbersByElement = byElement;
        try
        {
            body = V2Json.WriteResponse(response, binaryAll: false, binaryOutputs: null).Body;
            return Encoding.UTF8.GetString(body);
        }
        catch (RefusedException refused)
        {
            // A value JSON cannot carry (NaN, an infinity, non-UTF-8 BYTES): the expected answer.
            body = null;
            return $"refused {refused.Kind}: {refused.Message}";
        }
        finally
        {
            V2BodyWriter.NumbersByElement = false;
        }
    }

    /// <summary>The outcome of one read, as text: every tensor's name, datatype, shape and bytes, or the refusal.</summary>
    private static string Read(ReadOnlySpan<byte> body, int? headerLength, bool tokenByToken, out InferenceRequest? request)
    {
        V2BodyReader.NumbersTokenByToken = tokenByToken;
        try
        {
            request = V2Json.ReadRequest(body, headerLength, Limits);
            return Describe(request.Inputs, request.Id);
        }
        catch (RefusedException refused)
        {
            request = null;
            // The reader's own refusal (400 or 413 at the edge): the expected answer to bad input.
            return $"refused {refused.Kind}: {refused.Message}";
        }
        finally
        {
            V2BodyReader.NumbersTokenByToken = false;
        }
    }

    /// <summary>Every tensor's name, datatype, shape and bytes, as text.</summary>
    private static string Describe(IReadOnlyList<Tensor> tensors, string? id)
    {
        var text = new StringBuilder(id);
        foreach (var tensor in tensors)
        {
            text.Append('|').Append(tensor.Name).Append(' ').Append(tensor.DataType).Append(' ').AppendJoin(',', tensor.Shape).Append(' ')
                .Append(tensor.Data switch
                {
                    byte[][] elements => string.Join(',', elements.Select(Convert.ToHexString)),
                    Half[] halves => Convert.ToHexString(MemoryMarshal.AsBytes(halves.AsSpan())),
                    var data => Convert.ToHexString(Bytes(data)),
                });
        }

        return text.ToString();

        static byte[] Bytes(Array data)
        {
            var bytes = new byte[Buffer.ByteLength(data)];
            Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
            return bytes;
        }
    }
}
