namespace ServerlessServe.Eval.Extraction;

/// <summary>
/// The served model as one caller sees it through an output that names the predicted class: each query is one row of
/// 64 pixel counts, answered with the class the model predicts. The oracle counts queries against the caller's budget.
/// </summary>
public interface IQueryOracle
{
    /// <summary>Queries the caller may still send (0 when the budget is spent).</summary>
    int Remaining { get; }

    /// <summary>Sends one query and returns the predicted class.</summary>
    /// <exception cref="InvalidOperationException">The budget is spent.</exception>
    int Query(float[] row);
}
