using ServerlessServe.Core.Defenses.Extraction;

namespace ServerlessServe.Eval.Extraction;

/// <summary>What the detector said after each query of one caller.</summary>
/// <param name="Name">The caller's name.</param>
/// <param name="Benign">Whether the caller is benign (an alarm is then a false alarm).</param>
/// <param name="Description">What it sent.</param>
/// <param name="W">PRADA's W after each query (index 0 is query 1); null while too few distances are held.</param>
/// <param name="Signals">The signals raised as of each query, with the δ the detector ran with.</param>
/// <param name="Coverage">The coverage of the last complete epoch after each query; null before the first.</param>
public sealed record CallerTrace(
    string Name,
    bool Benign,
    string Description,
    IReadOnlyList<double?> W,
    IReadOnlyList<ExtractionSignals> Signals,
    IReadOnlyList<double?> Coverage)
{
    /// <summary>Queries sent.</summary>
    public int Queries => Signals.Count;

    /// <summary>The highest coverage of a complete epoch; null before the first.</summary>
    public double? MaxCoverage => Coverage.Where(c => c is not null).Max();

    /// <summary>Whether the OOD screen flagged each query (index 0 is query 1); empty when the model had no screen.</summary>
    public IReadOnlyList<bool> OodFlagged { get; init; } = [];

    /// <summary>
    /// The share of the screened rows in the detector's window that the screen flagged, after each query; null while
    /// fewer than the minimum were held; empty when the model had no screen.
    /// </summary>
    public IReadOnlyList<double?> OutOfDistributionShare { get; init; } = [];

    /// <summary>The highest share of flagged rows in the window; null when it was never computed.</summary>
    public double? MaxOutOfDistributionShare => OutOfDistributionShare.Where(s => s is not null).Max();

    /// <summary>
    /// The signals as of query <paramref name="query"/> (from 1) had the detector run with <paramref name="delta"/>:
    /// W does not depend on δ, so the distance-distribution signal is W &lt; δ, and the other signals are as recorded.
    /// </summary>
    public ExtractionSignals SignalsAt(int query, double delta)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(query, 1);
        var recorded = Signals[query - 1] & ~ExtractionSignals.DistanceDistribution;
        return W[query - 1] is { } w && w < delta ? recorded | ExtractionSignals.DistanceDistribution : recorded;
    }

    /// <summary>The first query (from 1) that raised any signal with <paramref name="delta"/>; null when none did.</summary>
    public int? FirstAlarm(double delta) => First(q => SignalsAt(q, delta) != ExtractionSignals.None);

    /// <summary>The first query (from 1) that raised <paramref name="signal"/> with <paramref name="delta"/>; null when none did.</summary>
    public int? FirstRaising(ExtractionSignals signal, double delta) => First(q => (SignalsAt(q, delta) & signal) != 0);

    /// <summary>The lowest W over the first <paramref name="queries"/> queries (all when null); null when W was never computed.</summary>
    public double? MinW(int? queries = null)
    {
        double? min = null;
        var end = Math.Min(W.Count, queries ?? W.Count);
        for (var i = 0; i < end; i++)
        {
            if (W[i] is { } w && (min is null || w < min))
            {
                min = w;
            }
        }

        return min;
    }

    private int? First(Func<int, bool> raised)
    {
        for (var query = 1; query <= Signals.Count; query++)
        {
            if (raised(query))
            {
                return query;
            }
        }

        return null;
    }
}
