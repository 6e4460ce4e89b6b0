namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>The kinds of <see cref="PendingObservation"/> a merge replays.</summary>
internal enum ObservationKind
{
    /// <summary>A query the model answered, with its predicted class (<see cref="ExtractionDetector.ObserveReduced"/>).</summary>
    Query,

    /// <summary>A request's rows screened and flagged by the OOD screen (<see cref="ExtractionDetector.ObserveScreened"/>).</summary>
    Screened,
}
