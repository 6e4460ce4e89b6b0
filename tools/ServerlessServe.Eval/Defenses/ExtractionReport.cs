namespace ServerlessServe.Eval.Defenses;

/// <summary>
/// The model-extraction detector (PRADA with the volume, coverage and out-of-distribution signals) on the digits model:
/// queries before the first alarm per attacker and signal, false alarms of benign callers, W of both, and δ calibrated
/// for the model.
/// </summary>
/// <param name="Setup">Options and settings.</param>
/// <param name="Callers">Every caller with the default options: the attackers first, then the benign callers.</param>
/// <param name="Calibration">The δ recommended for the digits model and how.</param>
/// <param name="Deltas">The callers with the default δ and with the recommended one.</param>
public sealed record ExtractionReport(
    ExtractionSetup Setup,
    IReadOnlyList<ExtractionCaller> Callers,
    ExtractionCalibration Calibration,
    IReadOnlyList<ExtractionDeltaResult> Deltas);
