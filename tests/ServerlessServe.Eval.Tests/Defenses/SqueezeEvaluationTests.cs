using ServerlessServe.Core.Defenses;
using ServerlessServe.Eval.Defenses;
using ServerlessServe.Eval.Tests.Fixtures;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Eval.Tests.Defenses;

public sealed class SqueezeEvaluationTests(OnnxDigitsModel model) : IClassFixture<OnnxDigitsModel>
{
    [Fact]
    public void Attack_Successful_OnlyRowsOnnxRuntimeGotRightAndNowGetsWrong()
    {
        var test = DigitsData.Load().Test;
        using var session = new DigitsSession();

        var sets = SqueezeEvaluation.Attack(session, test, "test", [0.1]);

        Assert.Equal([(SqueezeEvaluation.Fgsm, 0.1), (SqueezeEvaluation.Bim, 0.1)], sets.Select(s => (s.Attack, s.Epsilon)));
        foreach (var set in sets)
        {
            var successful = set.Results.Where(r => r.Succeeded).ToArray();
            Assert.Equal(successful.Length, set.Successful.Count);
            Assert.True(set.Successful.Count < set.Results.Count);
            var clean = model.Predict(successful.Select(r => r.Original).ToArray());
            var attacked = model.Predict(set.Successful);
            for (var i = 0; i < successful.Length; i++)
            {
                Assert.Equal(test.Labels[successful[i].Index], clean[i]);
                Assert.NotEqual(test.Labels[successful[i].Index], attacked[i]);
            }
        }
    }

    [Fact]
    public void SqueezeScores_Rows_L1BetweenOnnxProbabilitiesOfTheRowAndEachSqueezedCopy()
    {
        var rows = DigitsData.Load().Test.Rows().Take(5).ToArray();
        var configuration = new SqueezeConfiguration([SqueezeConfiguration.BitDepth(2), SqueezeConfiguration.Median(3)]);
        var policy = configuration.ToPolicy(threshold: 0.5);
        using var session = new DigitsSession();

        var scores = session.SqueezeScores(rows, policy);

        for (var r = 0; r < rows.Length; r++)
        {
            var bits = new float[64];
            var median = new float[64];
            FeatureSqueezing.BitDepth(rows[r], bits, 2, DigitsData.MaxPixel);
            FeatureSqueezing.Median(rows[r], median, 8, 8, 3);
            var p = model.Probabilities([rows[r], bits, median]);
            var expected = Math.Max(L1(p[0], p[1]), L1(p[0], p[2]));
            Assert.Equal(expected, scores[r], 5);
            Assert.Equal(scores[r], session.SqueezeScores([rows[r]], policy)[0], 5);
        }
    }

    private static double L1(float[] a, float[] b) => a.Zip(b).Sum(p => Math.Abs((double)p.First - p.Second));
}
