using ServerlessServe.Core.Security;

namespace ServerlessServe.Hosting.Tripwires;

/// <summary>Collects canary ids without allocating for text that holds none (almost all of it).</summary>
internal static class Hits
{
    public static void Find(CanaryTokens tokens, string? text, ref HashSet<string>? ids)
    {
        if (tokens.AnyIn(text))
        {
            tokens.FindIn(text, ids ??= new HashSet<string>(StringComparer.Ordinal));
        }
    }
}
