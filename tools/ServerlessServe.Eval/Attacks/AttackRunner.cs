namespace ServerlessServe.Eval.Attacks;

/// <summary>
/// Runs an attack over a set of rows and judges it with a classifier passed in: the clean rows in one call, the
/// adversarial rows in another (so a batch-capable model, such as an ONNX Runtime session, runs twice in all).
/// </summary>
public static class AttackRunner
{
    /// <summary>Attacks every row and reports each, successful or not, in order.</summary>
    public static IReadOnlyList<AttackResult> Run(IAttack attack, Classifier classifier, IReadOnlyList<float[]> rows, IReadOnlyList<int> labels)
    {
        ArgumentNullException.ThrowIfNull(attack);
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(labels);
        if (rows.Count != labels.Count)
        {
            throw new ArgumentException("One label per row.", nameof(labels));
        }

        var clean = Classify(classifier, rows);
        var adversarial = rows.Select((row, i) => attack.Perturb(row, labels[i])).ToArray();
        var attacked = Classify(classifier, adversarial);
        return rows.Select((row, i) => new AttackResult(i, labels[i], row.ToArray(), clean[i], adversarial[i], attacked[i])).ToArray();
    }

    /// <summary>
    /// Only the successful examples: rows the classifier got right whose adversarial row it gets wrong.
    /// </summary>
    public static IReadOnlyList<AttackResult> Successful(IAttack attack, Classifier classifier, IReadOnlyList<float[]> rows, IReadOnlyList<int> labels) =>
        Run(attack, classifier, rows, labels).Where(r => r.Succeeded).ToArray();

    /// <summary>Share of the correctly classified rows that the attack fooled (0 when none was correct).</summary>
    public static double SuccessRate(IReadOnlyCollection<AttackResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var correct = results.Count(r => r.CleanCorrect);
        return correct == 0 ? 0 : results.Count(r => r.Succeeded) / (double)correct;
    }

    private static IReadOnlyList<int> Classify(Classifier classifier, IReadOnlyList<float[]> rows)
    {
        var predictions = classifier(rows);
        if (predictions.Count != rows.Count)
        {
            throw new InvalidOperationException("The classifier did not return one prediction per row.");
        }

        return predictions;
    }
}
