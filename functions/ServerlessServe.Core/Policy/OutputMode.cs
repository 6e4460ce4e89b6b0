namespace ServerlessServe.Core.Policy;

/// <summary>How a score output is hardened before it leaves the platform.</summary>
public enum OutputMode
{
    /// <summary>All scores, rounded to <see cref="OutputRule.Round"/> digits.</summary>
    Scores,

    /// <summary>Only the k best scores per row (rounded), with their class indices or labels.</summary>
    TopK,

    /// <summary>Only the best class per row: its label, or its index when the policy has no labels.</summary>
    Label,
}
