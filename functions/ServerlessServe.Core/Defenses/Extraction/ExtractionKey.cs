using System.Globalization;

namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>
/// Whose state: one caller (by pseudonym, never the raw id) of one model (by name: every version of a model shares
/// the caller's state, since extraction targets the model, not a version), for one input width.
/// </summary>
/// <param name="Model">The model's name; the table entity's PartitionKey.</param>
/// <param name="Caller">The caller's pseudonym (<c>CallerPseudonymizer</c>).</param>
/// <param name="Width">
/// Values per row of the extraction policy's input; set by the store from each observation. Versions of one model
/// whose inputs differ in width each keep the caller's state of their own: before 2026-12-07 they shared one, and a
/// request to the other width started it afresh, so a caller alternating between two versions kept every signal
/// below its threshold (found in review).
/// </param>
public readonly record struct ExtractionKey(string Model, string Caller, int Width = 0)
{
    /// <summary>The table entity's RowKey: <c>{caller}~{width}</c>.</summary>
    public string RowKey => Caller + "~" + Width.ToString(CultureInfo.InvariantCulture);
}
