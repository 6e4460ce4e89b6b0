namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>
/// One observation not yet in the stored state, numbered in the order the entry observed it: a query (the reduced
/// query, <see cref="ExtractionDetector.TryReduce"/>, the class predicted for it and its time) or a request's
/// outcome at the OOD screen (its rows screened and flagged). A merge replays both kinds, in order, into the stored state.
/// </summary>
internal sealed class PendingObservation
{
    private PendingObservation(long sequence, ObservationKind kind, float[] query, int predictedClass, int rows, int flaggedRows, DateTimeOffset time, QueryFingerprint? fingerprint = null)
    {
        Fingerprint = fingerprint;
        Sequence = sequence;
        Kind = kind;
        Query = query;
        PredictedClass = predictedClass;
        Rows = rows;
        FlaggedRows = flaggedRows;
        Time = time;
    }

    /// <summary>The observation's number (the store numbers its observations from 1, across entries).</summary>
    public long Sequence { get; }

    /// <summary>What was observed.</summary>
    public ObservationKind Kind { get; }

    /// <summary>The reduced query; empty for a screen outcome.</summary>
    public float[] Query { get; }

    /// <summary>The class predicted for the query; −1 for a screen outcome.</summary>
    public int PredictedClass { get; }

    /// <summary>Rows the screen saw; 0 for a query.</summary>
    public int Rows { get; }

    /// <summary>Rows the screen flagged; 0 for a query.</summary>
    public int FlaggedRows { get; }

    /// <summary>When it was observed.</summary>
    public DateTimeOffset Time { get; }

    /// <summary>The fingerprint of the query as sent (<see cref="ExtractionDetector.Fingerprint"/>), by which a repeat is known; null for a screen outcome.</summary>
    public QueryFingerprint? Fingerprint { get; }

    /// <summary>A query observed by <see cref="ExtractionDetector.ObserveReduced"/>.</summary>
    public static PendingObservation ForQuery(long sequence, float[] query, int predictedClass, DateTimeOffset time, QueryFingerprint? fingerprint = null) =>
        new(sequence, ObservationKind.Query, query, predictedClass, 0, 0, time, fingerprint);

    /// <summary>A screen outcome observed by <see cref="ExtractionDetector.ObserveScreened"/>.</summary>
    public static PendingObservation ForScreened(long sequence, int rows, int flaggedRows, DateTimeOffset time) =>
        new(sequence, ObservationKind.Screened, [], -1, rows, flaggedRows, time);

    /// <summary>Observes this again into <paramref name="state"/> (a merge), as it was first observed.</summary>
    public ExtractionVerdict ReplayInto(ExtractionDetector detector, ExtractionState state) => Kind == ObservationKind.Screened
        ? detector.ObserveScreened(state, Rows, FlaggedRows, Time)
        : detector.ObserveReduced(state, Query, PredictedClass, Time, Fingerprint);
}
