namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>What <see cref="ExtractionStateStore.Observe"/> concluded for one request's rows.</summary>
/// <param name="Verdict">
/// The verdict after the request's last row; when no row could be observed, the state's signals as they stand
/// (<see cref="ExtractionDetector.Summarize"/>). Its <see cref="ExtractionVerdict.RaisedEver"/> is every signal raised
/// for this caller and model so far, as this instance knows it.
/// </param>
/// <param name="NewlyRaised">
/// The signals this request raised for the first time (none already reported by this instance or found in the stored
/// state): the caller raises one security event for them.
/// </param>
public sealed record ExtractionOutcome(ExtractionVerdict Verdict, ExtractionSignals NewlyRaised);
