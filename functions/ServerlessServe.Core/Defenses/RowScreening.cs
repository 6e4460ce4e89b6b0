namespace ServerlessServe.Core.Defenses;

/// <summary>What <see cref="MahalanobisScreen.Screen"/> found over a request's rows.</summary>
/// <param name="MaxDistance">The largest distance (the request's score); NaN when a row's distance is NaN.</param>
/// <param name="Rows">Rows screened.</param>
/// <param name="FlaggedRows">Rows whose distance is above the threshold, or NaN.</param>
public readonly record struct RowScreening(double MaxDistance, int Rows, int FlaggedRows);
