namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>
/// Whose state: one caller (by pseudonym, never the raw id) of one model (by name: every version of a model shares
/// the caller's state, since extraction targets the model, not a version).
/// </summary>
/// <param name="Model">The model's name; the table entity's PartitionKey.</param>
/// <param name="Caller">The caller's pseudonym (<c>CallerPseudonymizer</c>); the table entity's RowKey.</param>
public readonly record struct ExtractionKey(string Model, string Caller);
