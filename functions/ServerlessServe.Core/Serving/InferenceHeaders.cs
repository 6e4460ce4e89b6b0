using System.Globalization;
using Microsoft.AspNetCore.Http;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Serving;

/// <summary>Reads the binary tensor extension's header from a request.</summary>
public static class InferenceHeaders
{
    /// <summary>The <c>Inference-Header-Content-Length</c> value, null when absent; 400 when it is not a non-negative integer.</summary>
    public static int? HeaderLength(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var raw = request.Headers[BodyResult.InferenceHeaderContentLength].ToString();
        if (raw.Length == 0)
        {
            return null;
        }

        return int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var length)
            ? length
            : throw ProtocolException.BadRequest("invalid Inference-Header-Content-Length");
    }
}
