using System.Text.Json;
using ServerlessServe.Core.Defenses.Extraction;
using ServerlessServe.Core.Policy;
using ServerlessServe.Eval.Defenses;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Eval.Tests.Defenses;

/// <summary>The extraction detector and membership inference in the evaluation's report.</summary>
public sealed partial class DefenseEvaluationTests
{
    private ExtractionReport Extraction => Assert.IsType<ExtractionReport>(Report.Extraction);

    private MembershipReport Membership => Assert.IsType<MembershipReport>(Report.Membership);

    [Fact]
    public void Extraction_Callers_SevenAttackersThenTenBenignOf2000Queries()
    {
        Assert.Equal(
            ["random", "jacobian, seed set 1", "jacobian, seed set 2", "jacobian, seed set 3", "jacobian, seed set 4", "jacobian, seed set 5", "natural replay"],
            Extraction.Callers.Where(c => !c.Benign).Select(c => c.Name));
        Assert.Equal(Enumerable.Range(1, 10).Select(i => $"benign {i}"), Extraction.Callers.Where(c => c.Benign).Select(c => c.Name));
        Assert.All(Extraction.Callers, c => Assert.Equal(2000, c.Queries));
        Assert.Equal(new ExtractionDetectorOptions().Delta, Extraction.Setup.Delta);
        Assert.Equal(1.0, Extraction.Setup.SecondsPerQuery);
        Assert.Equal(evaluation.Result.Curves.Extraction.Select(t => t.Name), Extraction.Callers.Select(c => c.Name));
    }

    /// <summary>At one query a second a caller sends 300 queries per 5-minute window, under the limit of 1,000.</summary>
    [Fact]
    public void Extraction_OneQueryPerSecond_VolumeNeverRaised()
    {
        Assert.All(Extraction.Callers, c => Assert.Null(c.FirstVolume));
    }

    /// <summary>Every random query is flagged by the screen: the share is 1 as soon as it counts; coverage follows at the first epoch.</summary>
    [Fact]
    public void Extraction_RandomAttacker_OutOfDistributionAtTheMinimumRows_CoverageAtTheFirstEpoch()
    {
        var random = Extraction.Callers.Single(c => c.Name == "random");

        Assert.Equal(Extraction.Setup.OutOfDistributionMinRows, random.FirstAlarm);
        Assert.Equal(ExtractionSignals.OutOfDistribution, random.FirstSignals);
        Assert.Equal(Extraction.Setup.CoverageEpoch, random.FirstCoverage);
        Assert.Equal(1.0, random.MaxOutOfDistributionShare);
    }

    /// <summary>
    /// The Jacobian attackers PRADA misses on this model (four of five seed sets) are caught by the share the screen
    /// flags, all within the target.
    /// </summary>
    [Fact]
    public void Extraction_JacobianAttackers_OutOfDistributionWithinTheTarget()
    {
        var jacobian = Extraction.Callers.Where(c => c.Name.StartsWith(ExtractionEvaluation.Jacobian, StringComparison.Ordinal)).ToList();

        Assert.Equal(5, jacobian.Count);
        Assert.All(jacobian, c => Assert.InRange(c.FirstOutOfDistribution ?? int.MaxValue, Extraction.Setup.OutOfDistributionMinRows, Extraction.Setup.TargetQueries));
        Assert.All(jacobian, c => Assert.Equal(c.FirstOutOfDistribution, c.FirstAlarm));
        Assert.Equal(4, jacobian.Count(c => c.FirstDistanceDistribution is null));
    }

    /// <summary>Benign callers, the natural-replay attacker and the calibration callers stay far below the share that alarms.</summary>
    [Fact]
    public void Extraction_NaturalQueries_OutOfDistributionNeverRaised_ShareFarBelowTheThreshold()
    {
        var natural = Extraction.Callers.Where(c => c.Benign || c.Name == ExtractionEvaluation.Natural).ToList();
        var quarter = Extraction.Setup.OutOfDistributionThreshold / 4;

        Assert.Equal(11, natural.Count);
        Assert.All(natural, c => Assert.Null(c.FirstOutOfDistribution));
        Assert.All(natural, c => Assert.InRange(c.MaxOutOfDistributionShare ?? -1, 0, quarter));
        Assert.InRange(Extraction.Calibration.HighestOutOfDistributionShare ?? -1, 0, quarter);
    }

    /// <summary>The share the detector reported after each query is the share of the screen's flags over the window.</summary>
    [Fact]
    public void Extraction_OutOfDistributionShare_RecountedFromTheScreensFlags()
    {
        var setup = Extraction.Setup;
        foreach (var trace in evaluation.Result.Curves.Extraction)
        {
            var caller = Extraction.Callers.Single(c => c.Name == trace.Name);
            Assert.Equal(new Rate(trace.OodFlagged.Count(static f => f), trace.Queries), caller.OodFlagged);
            for (var query = 1; query <= trace.Queries; query++)
            {
                var held = Math.Min(query, setup.OutOfDistributionWindow);
                double? expected = held < setup.OutOfDistributionMinRows ? null : trace.OodFlagged.Skip(query - held).Take(held).Count(static f => f) / (double)held;
                Assert.Equal(expected, trace.OutOfDistributionShare[query - 1]);
            }
        }
    }

    [Fact]
    public void Extraction_DefaultDelta_OutcomesAreTheDetectorsOwnVerdicts()
    {
        var defaults = Extraction.Deltas.Single(d => d.Name == "default");

        Assert.Equal(Extraction.Setup.Delta, defaults.Delta);
        Assert.Equal(
            Extraction.Callers.Select(c => (c.Name, c.FirstAlarm, c.FirstSignals)),
            defaults.Outcomes.Select(o => (o.Caller, o.FirstAlarm, o.FirstSignals)));
        Assert.Equal(Extraction.Callers.Count(c => c.Benign && c.FirstAlarm is not null), defaults.FalseAlarms.Count);
    }

    /// <summary>
    /// δ comes from the calibration callers only, by the rule; with it none of the ten benign callers alarms. Pinned at
    /// 0.85, the figure docs/defenses.md reports.
    /// </summary>
    [Fact]
    public void Extraction_RecommendedDelta_FromCalibrationAndNoFalseAlarm()
    {
        var calibration = Extraction.Calibration;
        var recommended = Extraction.Deltas.Single(d => d.Name == "recommended");

        Assert.Equal(ExtractionEvaluation.RecommendDelta(calibration.LowestW), calibration.RecommendedDelta);
        Assert.Equal(0.85, calibration.RecommendedDelta);
        Assert.Equal(calibration.RecommendedDelta, recommended.Delta);
        Assert.Equal(new Rate(0, 10), recommended.FalseAlarms);
        Assert.Equal(new Rate(6, 6), recommended.TargetAttackersCaught);
        Assert.True(recommended.TargetsMet);
        Assert.True(calibration.LowestW - calibration.RecommendedDelta >= ExtractionEvaluation.DeltaMargin);
        Assert.True(calibration.BenignLowestW >= recommended.Delta);
    }

    [Theory]
    [InlineData(0.8851, 0.85)]
    [InlineData(0.87, 0.85)]
    [InlineData(0.869, 0.8)]
    [InlineData(0.999, 0.95)]
    [InlineData(0.3, 0.5)]
    public void RecommendDelta_LargestMultipleOfAStepAtLeastTheMarginBelow(double lowest, double delta)
    {
        Assert.Equal(delta, ExtractionEvaluation.RecommendDelta(lowest));
    }

    /// <summary>The digits policy's OOD screen (enforcing) would refuse most synthetic queries and few benign ones.</summary>
    [Fact]
    public void Extraction_OodScreen_RefusesMostSyntheticQueriesAndFewBenign()
    {
        Assert.All(Extraction.Callers.Where(c => ExtractionEvaluation.IsTarget(c.Name)), c => Assert.True(c.OodFlagged.Value > 0.5, c.Name));
        Assert.All(Extraction.Callers.Where(c => c.Benign), c => Assert.True(c.OodFlagged.Value < 0.02, c.Name));
    }

    [Fact]
    public void Membership_Forms_FullOutputFirstAndThePolicysOwnRule()
    {
        var policyRule = PolicyLoader.Parse(SampleModels.GetPolicy(DigitsSample.Name)).Outputs[DigitsSample.OutputName];

        Assert.Equal(7, Membership.Forms.Count);
        Assert.Equal(new OutputRule { Mode = OutputMode.Scores }, Membership.Forms[0].Rule);
        var policy = Assert.Single(Membership.Forms, f => f.Policy);
        Assert.Equal(policyRule, policy.Rule);
        Assert.Equal(445, Membership.Members);
        Assert.Equal(445, Membership.NonMembers);
        Assert.All(Membership.Forms, f => Assert.InRange(f.TrueLabel.Advantage, 0, 1));
    }

    [Fact]
    public void Membership_LabelOnly_AdvantageIsTheAccuracyGap()
    {
        var label = Membership.Forms.Single(f => f.Rule.Mode == OutputMode.Label);

        Assert.Null(label.TopScore);
        Assert.Equal(Math.Max(0, Membership.MemberAccuracy.Value - Membership.NonMemberAccuracy.Value), label.TrueLabel.Advantage, 12);
    }

    [Fact]
    public void Membership_MemberIndices_EvenlySpacedAndDistinct()
    {
        var indices = MembershipEvaluation.MemberIndices(1352, 445);

        Assert.Equal(445, indices.Distinct().Count());
        Assert.Equal(0, indices[0]);
        Assert.Equal(indices.Order(), indices);
        Assert.Equal(444 * 1352 / 445, indices[^1]);
    }

    [Fact]
    public void ToJson_Report_HasExtractionAndMembership()
    {
        using var json = JsonDocument.Parse(Report.ToJson());

        var extraction = json.RootElement.GetProperty("extraction");
        Assert.Equal("outOfDistribution", extraction.GetProperty("callers")[0].GetProperty("firstSignals").GetString());
        Assert.Equal(256, extraction.GetProperty("callers")[0].GetProperty("firstCoverage").GetInt32());
        Assert.Equal(Extraction.Calibration.RecommendedDelta, extraction.GetProperty("calibration").GetProperty("recommendedDelta").GetDouble());
        var forms = json.RootElement.GetProperty("membership").GetProperty("forms");
        Assert.Equal("scores", forms[1].GetProperty("rule").GetProperty("mode").GetString());
    }
}
