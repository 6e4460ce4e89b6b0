using ServerlessServe.Core.Defenses.Extraction;

namespace ServerlessServe.Eval.Extraction;

/// <summary>
/// The model behind an <see cref="ExtractionDetector"/>, as the gateway would serve one caller: each query is first
/// held to the model's out-of-distribution screen, when there is one, and the screen's flag observed
/// (<see cref="ExtractionDetector.ObserveScreened"/>, as the <c>screen</c> stage reports it); then it is labelled by the
/// model and observed by the detector with the predicted class at a simulated time (the caller's first query at
/// <paramref name="start"/>, then one every <paramref name="interval"/>), and the verdict recorded. A flagged query is
/// still answered and observed (the screen as in shadow mode): the flags count the same in both modes, and the
/// attacker's queries stay those of the evaluation without a screen.
/// </summary>
/// <param name="detector">The detector (shared by all callers of a run).</param>
/// <param name="predict">The served model: the predicted class of one row.</param>
/// <param name="budget">Queries the caller may send.</param>
/// <param name="start">Simulated time of the first query.</param>
/// <param name="interval">Simulated time between queries.</param>
/// <param name="screen">The OOD screen: whether it flags a row; null for a model without one.</param>
public sealed class MonitoredOracle(
    ExtractionDetector detector, Func<float[], int> predict, int budget, DateTimeOffset start, TimeSpan interval, Func<float[], bool>? screen = null) : IQueryOracle
{
    private readonly ExtractionState _state = detector.CreateState(Local.Samples.DigitsData.PixelCount);
    private readonly List<double?> _w = [];
    private readonly List<ExtractionSignals> _signals = [];
    private readonly List<double?> _coverage = [];
    private readonly List<bool> _flagged = [];
    private readonly List<double?> _oodShare = [];

    public int Remaining => budget - _signals.Count;

    public int Query(float[] row)
    {
        ArgumentNullException.ThrowIfNull(row);
        if (Remaining <= 0)
        {
            throw new InvalidOperationException("The caller's query budget is spent.");
        }

        if (screen is not null)
        {
            var flagged = screen(row);
            detector.ObserveScreened(_state, 1, flagged ? 1 : 0);
            _flagged.Add(flagged);
        }

        var label = predict(row);
        var verdict = detector.Observe(_state, row, label, start + (interval * _signals.Count));
        _w.Add(verdict.W);
        _signals.Add(verdict.Signals);
        _coverage.Add(verdict.Coverage);
        _oodShare.Add(verdict.OutOfDistributionShare);
        return label;
    }

    /// <summary>Runs <paramref name="strategy"/> to the end of its budget and returns what the detector said.</summary>
    public static CallerTrace Run(
        IQueryStrategy strategy,
        bool benign,
        ExtractionDetector detector,
        Func<float[], int> predict,
        int budget,
        DateTimeOffset start,
        TimeSpan interval,
        Func<float[], bool>? screen = null)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        var oracle = new MonitoredOracle(detector, predict, budget, start, interval, screen);
        strategy.Run(oracle);
        return new CallerTrace(strategy.Name, benign, strategy.Description, oracle._w, oracle._signals, oracle._coverage)
        {
            OodFlagged = oracle._flagged,
            OutOfDistributionShare = screen is null ? [] : oracle._oodShare,
        };
    }
}
