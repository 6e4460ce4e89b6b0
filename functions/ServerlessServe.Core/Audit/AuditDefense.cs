namespace ServerlessServe.Core.Audit;

/// <summary>
/// One defense's decision as an audit record keeps it (<c>defenses</c>, record format 3): whether it flagged the
/// request, its mode (<c>shadow</c> or <c>enforce</c>), the request's score (6 decimals; null when it could not be
/// computed, which flags) and the threshold.
/// </summary>
public sealed record AuditDefense(bool Flagged, string Mode, double? Score, double Threshold);
