using System.Text.Json;
using System.Text.Json.Serialization;

namespace ServerlessServe.Core.Defenses;

/// <summary>
/// Statistics of a model's training rows for one input (<c>profile.json</c> in a signed artifact): per-feature range
/// and mean, the precision matrix (inverse of the shrunk covariance), and the Mahalanobis distance at the policy's
/// percentile of the training rows' own distances, which is the out-of-distribution threshold. Computed when the
/// version is published (<see cref="InputProfileBuilder"/>), pinned by digest in the manifest, read strictly.
/// </summary>
public sealed record InputProfile
{
    /// <summary>The file name in an artifact.</summary>
    public const string FileName = "profile.json";

    /// <summary>Largest accepted file: 16 MiB (a 1,024-feature precision matrix in JSON is about that).</summary>
    public const int MaxBytes = 16 << 20;

    /// <summary>Most features a profile covers (the precision matrix has the square of this).</summary>
    public const int MaxFeatures = 1024;

    public int SchemaVersion { get; init; } = 1;

    /// <summary>The input the rows are of.</summary>
    public required string Input { get; init; }

    /// <summary>Training rows the statistics come from.</summary>
    public required int Rows { get; init; }

    /// <summary>Features per row.</summary>
    public required int Features { get; init; }

    public required IReadOnlyList<double> Mean { get; init; }

    public required IReadOnlyList<double> Min { get; init; }

    public required IReadOnlyList<double> Max { get; init; }

    /// <summary>Weight of the scaled identity mixed into the covariance (0..1) before it is inverted.</summary>
    public required double Shrinkage { get; init; }

    /// <summary>The inverse of the shrunk covariance, row-major, <see cref="Features"/>².</summary>
    public required IReadOnlyList<double> Precision { get; init; }

    /// <summary>The training-set percentile <see cref="Threshold"/> was taken at.</summary>
    public required double Percentile { get; init; }

    /// <summary>The Mahalanobis distance at <see cref="Percentile"/> of the training rows' distances.</summary>
    public required double Threshold { get; init; }

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        AllowDuplicateProperties = false,
        RespectNullableAnnotations = true,
        NumberHandling = JsonNumberHandling.Strict,
        MaxDepth = 8,
    };

    /// <summary>The profile as JSON (compact; numbers round-trip exactly).</summary>
    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Options);

    /// <summary>Reads and checks a profile; <see cref="FormatException"/> when it is not a well-formed one.</summary>
    public static InputProfile Parse(ReadOnlySpan<byte> utf8Json)
    {
        if (utf8Json.Length > MaxBytes)
        {
            throw new FormatException("profile is larger than 16 MiB");
        }

        InputProfile? profile;
        try
        {
            profile = JsonSerializer.Deserialize<InputProfile>(utf8Json, Options);
        }
        catch (JsonException)
        {
            throw new FormatException("profile is not valid profile JSON");
        }

        if (profile is null)
        {
            throw new FormatException("profile is null");
        }

        profile.Check();
        return profile;
    }

    private void Check()
    {
        var d = Features;
        if (SchemaVersion != 1 || d is < 1 or > MaxFeatures || Rows < 2 || string.IsNullOrEmpty(Input)
            || Mean.Count != d || Min.Count != d || Max.Count != d || Precision.Count != d * d
            || !(Shrinkage is >= 0 and <= 1) || !(Percentile is > 50 and <= 100) || !(Threshold >= 0)
            || !Mean.Concat(Min).Concat(Max).Concat(Precision).All(double.IsFinite) || !double.IsFinite(Threshold))
        {
            throw new FormatException("profile fields are inconsistent or not finite");
        }
    }
}
