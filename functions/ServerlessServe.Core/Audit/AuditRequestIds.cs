using System.Security.Cryptography;
using System.Text;

namespace ServerlessServe.Core.Audit;

/// <summary>
/// Request ids that say which audit writer records them: 32 lowercase hex digits, the first 8 a tag of the writer id
/// (SHA-256 of <c>serverlessserve.writer.v1</c>, a zero byte and the id), the other 24 random. So the inclusion proof of
/// a receipted request is found from its id alone — the writers whose tag matches, then that writer's chain — with no
/// index written per request. The tag names no writer by itself and 96 random bits keep ids unguessable.
/// </summary>
public static class AuditRequestIds
{
    private const int TagLength = 8;

    /// <summary>A new request id recorded by <paramref name="writerId"/>.</summary>
    public static string New(string writerId) => Tag(writerId) + RandomNumberGenerator.GetHexString(24, lowercase: true);

    /// <summary>The tag of <paramref name="writerId"/> (8 lowercase hex digits).</summary>
    public static string Tag(string writerId)
    {
        ArgumentNullException.ThrowIfNull(writerId);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes("serverlessserve.writer.v1\0" + writerId));
        return Convert.ToHexStringLower(hash)[..TagLength];
    }

    /// <summary>The writer tag of <paramref name="requestId"/>, when it has the form above.</summary>
    public static bool TryTag(string? requestId, out string tag)
    {
        tag = string.Empty;
        if (requestId is not { Length: 32 } || requestId.AsSpan().ContainsAnyExcept("0123456789abcdef"))
        {
            return false;
        }

        tag = requestId[..TagLength];
        return true;
    }
}
