namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>
/// One observed query not yet in the stored state: the reduced query (<see cref="ExtractionDetector.TryReduce"/>), the
/// class predicted for it and its time, numbered in the order the entry observed it.
/// </summary>
internal sealed record PendingObservation(long Sequence, float[] Query, int PredictedClass, DateTimeOffset Time);
