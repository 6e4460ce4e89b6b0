using ServerlessServe.Eval.Attacks;
using ServerlessServe.Eval.Defenses;
using ServerlessServe.Eval.Extraction;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Eval.Tests.Extraction;

public sealed class JacobianAugmentationTests
{
    private const float Lambda = 1.6f;

    [Fact]
    public void Step_EachPixel_MovesLambdaAlongTheSignOfTheDirectionAndStaysInRange()
    {
        float[] row = [0, 0, 8, 8, 8, 15, 16, 1];
        float[] direction = [1, -0.001f, 2, -3, 0, 0.5f, 4, -7];

        var next = JacobianAugmentation.Step(row, direction, Lambda, PixelRange.Digits);

        Assert.Equal([1.6f, 0, 9.6f, 6.4f, 8, 16, 16, 0], next);
        Assert.Equal([0, 0, 8, 8, 8, 15, 16, 1], row);
    }

    [Fact]
    public void Step_DirectionOfAnotherLength_Throws()
    {
        Assert.Throws<ArgumentException>(() => JacobianAugmentation.Step(new float[4], new float[3], Lambda, PixelRange.Digits));
    }

    /// <summary>
    /// The direction is ∂F[label]/∂x up to a positive factor: moving a pixel along its sign raises the probability of the
    /// label (checked by central differences of the loss −ln p, in double, where the gradient is not negligible).
    /// </summary>
    [Fact]
    public void Direction_SignAgreesWithFiniteDifferencesOfTheLabelProbability()
    {
        var substitute = DigitsSample.Weights;
        var test = DigitsData.Load().Test;
        for (var r = 0; r < 20; r++)
        {
            var row = test.Row(r);
            var label = test.Labels[r];
            var direction = JacobianAugmentation.Direction(substitute, row, label);
            var largest = direction.Max(Math.Abs);
            for (var p = 0; p < row.Length; p++)
            {
                if (Math.Abs(direction[p]) < 1e-3 * largest)
                {
                    continue;
                }

                var (up, down) = ((float[])row.Clone(), (float[])row.Clone());
                up[p] += 1e-2f;
                down[p] -= 1e-2f;
                var lossSlope = substitute.Loss(up, label) - substitute.Loss(down, label);
                Assert.Equal(Math.Sign(direction[p]), -Math.Sign(lossSlope));
            }
        }
    }

    /// <summary>
    /// The seeds are queried first; then each round adds one step from every row queried so far, in order, so the set
    /// doubles: with 10 seeds and 40 queries, round 1 steps from the seeds and round 2 from those 20 rows.
    /// </summary>
    [Fact]
    public void Run_SeedsThenRoundsThatDoubleTheSet_EachQueryOneStepFromItsParent()
    {
        var seeds = ExtractionEvaluation.SeedSet(DigitsData.Load().Train, 0);
        var attack = new JacobianAugmentation(seeds, 0.1, 1);
        var oracle = new RecordingOracle(r => DigitsSample.Weights.Predict(r), 40);

        attack.Run(oracle);

        Assert.Equal(40, oracle.Queries.Count);
        Assert.Equal(2, attack.Rounds);
        Assert.Equal(seeds, oracle.Queries.Take(10));
        Assert.Equal(oracle.Queries.Select(q => DigitsSample.Weights.Predict(q)), oracle.Labels);
        for (var i = 10; i < 40; i++)
        {
            var parent = oracle.Queries[i < 20 ? i - 10 : i - 20];
            var child = oracle.Queries[i];
            Assert.NotEqual(parent, child);
            for (var p = 0; p < child.Length; p++)
            {
                Assert.InRange(child[p], 0f, DigitsData.MaxPixel);
                var moved = child[p] - parent[p];
                Assert.True(
                    moved == 0 || Math.Abs(Math.Abs(moved) - Lambda) < 1e-4 || child[p] is 0 or DigitsData.MaxPixel,
                    $"query {i + 1}, pixel {p}: moved {moved}");
            }
        }
    }

    [Fact]
    public void Run_BudgetSmallerThanTheSeeds_StopsAtTheBudget()
    {
        var seeds = ExtractionEvaluation.SeedSet(DigitsData.Load().Train, 1);
        var oracle = new RecordingOracle(r => DigitsSample.Weights.Predict(r), 7);

        new JacobianAugmentation(seeds, 0.1, 1).Run(oracle);

        Assert.Equal(seeds.Take(7), oracle.Queries);
    }

    [Fact]
    public void SeedSet_OneTrainingDigitPerClass_TheNthOfEachInFileOrder()
    {
        var train = DigitsData.Load().Train;

        var first = ExtractionEvaluation.SeedSet(train, 0);
        var second = ExtractionEvaluation.SeedSet(train, 1);

        for (var digit = 0; digit < DigitsData.ClassCount; digit++)
        {
            var rows = Enumerable.Range(0, train.Count).Where(i => train.Labels[i] == digit).ToArray();
            Assert.Equal(train.Row(rows[0]), first[digit]);
            Assert.Equal(train.Row(rows[1]), second[digit]);
        }
    }
}
