namespace ServerlessServe.Eval.Defenses;

/// <summary>
/// The choice of δ for the digits model from benign calibration callers only (the defender's own data, as the PRADA
/// paper calibrates), with W of the evaluation's callers beside it.
/// </summary>
/// <param name="Callers">Calibration callers run.</param>
/// <param name="Description">What they sent.</param>
/// <param name="LowestW">The lowest W any calibration caller reached.</param>
/// <param name="MedianLowestW">The median over calibration callers of each one's lowest W.</param>
/// <param name="BenignLowestW">The lowest W of the evaluation's benign callers (each one's minimum, then the lowest).</param>
/// <param name="BenignHighestLowestW">The highest of the evaluation's benign callers' minimum W.</param>
/// <param name="RecommendedDelta">The δ recommended for the digits model.</param>
/// <param name="Rule">How it was chosen.</param>
/// <param name="Separable">
/// Whether some δ separates every synthetic-query attacker PRADA has to catch (its lowest W within the target) from
/// every benign caller (calibration and evaluation): the highest such attacker W is below the lowest benign W.
/// </param>
/// <param name="HighestOutOfDistributionShare">
/// The highest share of flagged rows in the out-of-distribution window any calibration caller reached (the benign side
/// of the out-of-distribution signal's threshold, on the defender's own data); null when it was never computed.
/// </param>
public sealed record ExtractionCalibration(
    int Callers,
    string Description,
    double LowestW,
    double MedianLowestW,
    double BenignLowestW,
    double BenignHighestLowestW,
    double RecommendedDelta,
    string Rule,
    bool Separable,
    double? HighestOutOfDistributionShare);
