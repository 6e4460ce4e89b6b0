using System.Globalization;

namespace ServerlessServe.Core.Audit;

/// <summary>
/// Blob layout of the audit container: <c>chains/{writerId}/{segment:D6}.jsonl</c> (append blobs of JSON lines, segment
/// numbers from 0) and <c>checkpoints/{writerId}/{seq:D12}.json</c> (write-once block blobs); in the witness container,
/// <c>heads/{writerId}/{treeSize:D12}.json</c> (write-once, <see cref="AuditWitnessHead"/>).
/// </summary>
internal static class AuditBlobNames
{
    public const string ChainsPrefix = "chains/";

    public const string CheckpointsPrefix = "checkpoints/";

    public const string WitnessHeadsPrefix = "heads/";

    public static string WitnessHead(string writerId, long treeSize) =>
        WitnessHeadsPrefix + writerId + "/" + treeSize.ToString("D12", CultureInfo.InvariantCulture) + ".json";

    /// <summary>Parses <c>heads/{writerId}/{treeSize}.json</c>.</summary>
    public static bool TryParseWitnessHead(string name, out string writerId, out long treeSize) =>
        TryParse(name, WitnessHeadsPrefix, ".json", 12, out writerId, out treeSize);

    public static string ChainPrefix(string writerId) => ChainsPrefix + writerId + "/";

    public static string Segment(string writerId, long segment) =>
        ChainPrefix(writerId) + segment.ToString("D6", CultureInfo.InvariantCulture) + ".jsonl";

    public static string CheckpointPrefix(string writerId) => CheckpointsPrefix + writerId + "/";

    public static string Checkpoint(string writerId, long seq) =>
        CheckpointPrefix(writerId) + seq.ToString("D12", CultureInfo.InvariantCulture) + ".json";

    /// <summary>Parses <c>chains/{writerId}/{segment}.jsonl</c>.</summary>
    public static bool TryParseSegment(string name, out string writerId, out long segment) =>
        TryParse(name, ChainsPrefix, ".jsonl", 6, out writerId, out segment);

    /// <summary>Parses <c>checkpoints/{writerId}/{seq}.json</c>.</summary>
    public static bool TryParseCheckpoint(string name, out string writerId, out long seq) =>
        TryParse(name, CheckpointsPrefix, ".json", 12, out writerId, out seq);

    /// <summary>The writer folder of a blob under <paramref name="prefix"/>, or an empty string.</summary>
    internal static string WriterOf(string name, string prefix)
    {
        var rest = name.AsSpan(prefix.Length);
        var slash = rest.IndexOf('/');
        return slash < 0 ? string.Empty : rest[..slash].ToString();
    }

    private static bool TryParse(string name, string prefix, string suffix, int minDigits, out string writerId, out long number)
    {
        writerId = string.Empty;
        number = 0;
        if (!name.StartsWith(prefix, StringComparison.Ordinal) || !name.EndsWith(suffix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = name.AsSpan(prefix.Length, name.Length - prefix.Length - suffix.Length);
        var slash = rest.IndexOf('/');
        if (slash <= 0 || rest[(slash + 1)..].IndexOf('/') >= 0)
        {
            return false;
        }

        // The canonical form only ("D6"/"D12", no extra leading zeros): a copy of a head under a longer name would
        // otherwise parse to the same seq, become a duplicate, and be reported as a deleted head instead of a blob that
        // is not in the layout.
        var digits = rest[(slash + 1)..];
        if (digits.Length < minDigits || digits.ContainsAnyExceptInRange('0', '9')
            || !long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out number)
            || !digits.SequenceEqual(number.ToString("D" + minDigits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)))
        {
            number = 0;
            return false;
        }

        writerId = rest[..slash].ToString();
        return AuditOptions.IsValidWriterId(writerId);
    }
}
