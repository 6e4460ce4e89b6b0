namespace ServerlessServe.Eval.Membership;

/// <summary>
/// The threshold membership-inference attack of Yeom, Giacomelli, Fredrikson and Jha ("Privacy Risk in Machine
/// Learning: Analyzing the Connection to Overfitting", CSF 2018): a row is called a training member when its score
/// (for instance the model's confidence in the row's true label, or minus its loss) is at least a threshold t. The
/// membership advantage is TPR − FPR: members called members less non-members called members. <see cref="Best"/>
/// takes the best threshold over all of them, an upper bound on what an attacker who must pick t in advance gets.
/// </summary>
public static class MembershipAdvantage
{
    /// <summary>
    /// The best advantage over every threshold (every distinct score, and one above them all, which calls nobody a
    /// member and gives 0, so the result is never negative).
    /// </summary>
    /// <param name="members">Scores of training rows.</param>
    /// <param name="nonMembers">Scores of held-out rows.</param>
    public static MembershipThreshold Best(IReadOnlyCollection<double> members, IReadOnlyCollection<double> nonMembers)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(nonMembers);
        if (members.Count == 0 || nonMembers.Count == 0)
        {
            throw new ArgumentException("Needs members and non-members.", nameof(members));
        }

        if (members.Concat(nonMembers).Any(double.IsNaN))
        {
            throw new ArgumentException("Scores must not be NaN.", nameof(members));
        }

        // Scores from high to low; lowering t past each distinct score calls every row with that score a member.
        var all = members.Select(s => (Score: s, Member: true)).Concat(nonMembers.Select(s => (Score: s, Member: false)))
            .OrderByDescending(p => p.Score).ToArray();
        var best = new MembershipThreshold(0, null, 0, 0);
        var (truePositives, falsePositives) = (0, 0);
        for (var i = 0; i < all.Length;)
        {
            var score = all[i].Score;
            for (; i < all.Length && all[i].Score == score; i++)
            {
                if (all[i].Member)
                {
                    truePositives++;
                }
                else
                {
                    falsePositives++;
                }
            }

            var tpr = truePositives / (double)members.Count;
            var fpr = falsePositives / (double)nonMembers.Count;
            if (tpr - fpr > best.Advantage)
            {
                best = new MembershipThreshold(tpr - fpr, score, tpr, fpr);
            }
        }

        return best;
    }
}

/// <summary>The best threshold of a membership-inference attack.</summary>
/// <param name="Advantage">TPR − FPR at it, 0..1.</param>
/// <param name="Threshold">t: rows scoring at least t are called members; null when no threshold beats calling nobody a member.</param>
/// <param name="TruePositiveRate">Training rows called members.</param>
/// <param name="FalsePositiveRate">Held-out rows called members.</param>
public sealed record MembershipThreshold(double Advantage, double? Threshold, double TruePositiveRate, double FalsePositiveRate);
