using ServerlessServe.Eval.Membership;

namespace ServerlessServe.Eval.Tests.Membership;

public sealed class MembershipAdvantageTests
{
    /// <summary>
    /// By hand, calling members the rows scoring at least t: t = 0.9 → TPR 1/4, FPR 0; t = 0.8 → 2/4, 0 (advantage 0.5);
    /// t = 0.7 → 2/4, 1/4; t = 0.6 → 3/4, 1/4 (0.5 again, not better); t = 0.5 → 3/4, 2/4; t = 0.4 → 1, 2/4 (0.5);
    /// lower thresholds only add non-members. The first threshold reaching the best is reported.
    /// </summary>
    [Fact]
    public void Best_ToyScores_MatchesTheHandCount()
    {
        var best = MembershipAdvantage.Best([0.9, 0.8, 0.6, 0.4], [0.7, 0.5, 0.3, 0.2]);

        Assert.Equal(new MembershipThreshold(0.5, 0.8, 0.5, 0.0), best);
    }

    /// <summary>Tied scores are called together: at t = 1, two of three members and one of three non-members (1/3).</summary>
    [Fact]
    public void Best_TiedScores_CountedTogether()
    {
        var best = MembershipAdvantage.Best([1, 1, 0], [1, 0, 0]);

        Assert.Equal(1.0 / 3.0, best.Advantage, 12);
        Assert.Equal(1.0, best.Threshold);
        Assert.Equal(2.0 / 3.0, best.TruePositiveRate, 12);
        Assert.Equal(1.0 / 3.0, best.FalsePositiveRate, 12);
    }

    /// <summary>The label-only case: correct (1) or not (0); the advantage is the accuracy gap.</summary>
    [Fact]
    public void Best_CorrectOrNot_IsTheAccuracyGap()
    {
        double[] members = [.. Enumerable.Repeat(1.0, 50)];
        double[] nonMembers = [.. Enumerable.Repeat(1.0, 45), .. Enumerable.Repeat(0.0, 5)];

        var best = MembershipAdvantage.Best(members, nonMembers);

        Assert.Equal(0.1, best.Advantage, 12);
        Assert.Equal(1.0, best.Threshold);
    }

    [Fact]
    public void Best_MembersScoreLower_NoAdvantageAndNoThreshold()
    {
        var best = MembershipAdvantage.Best([0.1, 0.2], [0.3, 0.4]);

        Assert.Equal(new MembershipThreshold(0, null, 0, 0), best);
    }

    [Fact]
    public void Best_EmptyOrNaN_Throws()
    {
        Assert.Throws<ArgumentException>(() => MembershipAdvantage.Best([], [0.5]));
        Assert.Throws<ArgumentException>(() => MembershipAdvantage.Best([double.NaN], [0.5]));
    }
}
