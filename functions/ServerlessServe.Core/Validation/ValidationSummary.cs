namespace ServerlessServe.Core.Validation;

/// <summary>What a request that passed validation holds: its input count, total elements and batch size (0 when no input has a dynamic batch dimension).</summary>
public readonly record struct ValidationSummary(int InputCount, long ElementCount, long BatchSize);
