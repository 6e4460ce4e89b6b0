using System.Text.RegularExpressions;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Core.Artifacts;

/// <summary>
/// Model names (<c>\A[a-z0-9][a-z0-9._-]{0,62}\z</c>) and versions (<c>\A[0-9A-Za-z][0-9A-Za-z._-]{0,31}\z</c>), neither
/// containing <c>..</c>, so both are safe as blob path segments. Invalid ones are an invalid refusal that does not echo them.
/// </summary>
/// <remarks>
/// The patterns end in <c>\z</c>, not <c>$</c>: in .NET <c>$</c> also matches before a final <c>\n</c>, which would let
/// <c>"credit-risk\n"</c> through into blob paths and logs.
/// </remarks>
public static partial class ModelNames
{
    public static bool IsValidName(string? name) =>
        name is not null && NamePattern().IsMatch(name) && !name.Contains("..", StringComparison.Ordinal);

    public static bool IsValidVersion(string? version) =>
        version is not null && VersionPattern().IsMatch(version) && !version.Contains("..", StringComparison.Ordinal);

    /// <summary>Throws an invalid <see cref="RefusedException"/> for a malformed model name.</summary>
    public static void EnsureValidName(string? name)
    {
        if (!IsValidName(name))
        {
            throw RefusedException.Invalid("invalid model name");
        }
    }

    /// <summary>Throws an invalid <see cref="RefusedException"/> for a malformed version.</summary>
    public static void EnsureValidVersion(string? version)
    {
        if (!IsValidVersion(version))
        {
            throw RefusedException.Invalid("invalid model version");
        }
    }

    [GeneratedRegex(@"\A[a-z0-9][a-z0-9._-]{0,62}\z", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"\A[0-9A-Za-z][0-9A-Za-z._-]{0,31}\z", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex VersionPattern();
}
