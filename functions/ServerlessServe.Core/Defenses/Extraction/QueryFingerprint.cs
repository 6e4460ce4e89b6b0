namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>
/// What tells a query as sent from every other (<see cref="ExtractionDetector.Fingerprint"/>): the first 128 bits of
/// SHA-256 over its predicted class and the exact bits of its values before any reduction, and whether the reduction
/// keeps it whole (<see cref="Lossless"/>: no feature hashing, every value exactly a half-precision value, so the
/// stored form of the query is the query itself).
/// </summary>
/// <param name="Value">The fingerprint (a negative zero taken as zero).</param>
/// <param name="Lossless">
/// The reduced query equals the query as sent: only then is a stored query equal to it after reduction the same query,
/// and so a repeat. Past the latest queries' window, such a stored query is the only way a repeat is recognised.
/// </param>
public readonly record struct QueryFingerprint(UInt128 Value, bool Lossless);
