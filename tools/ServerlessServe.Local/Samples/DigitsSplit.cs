namespace ServerlessServe.Local.Samples;

/// <summary>The fixed train/test split of the digits data (see <see cref="DigitsData.Load"/>).</summary>
public sealed record DigitsSplit(DigitsSet Train, DigitsSet Test);
