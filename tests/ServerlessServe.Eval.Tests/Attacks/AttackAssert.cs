using ServerlessServe.Eval.Attacks;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Eval.Tests.Attacks;

/// <summary>Checks every attack must pass, whatever its success.</summary>
internal static class AttackAssert
{
    /// <summary>Every adversarial row is inside 0..16 and within ε·16 of its original in L∞.</summary>
    public static void WithinBudget(IReadOnlyList<AttackResult> results, double epsilon)
    {
        var budget = epsilon * DigitsData.MaxPixel;
        foreach (var result in results)
        {
            Assert.Equal(DigitsData.PixelCount, result.Adversarial.Length);
            Assert.All(result.Adversarial, p => Assert.InRange(p, 0f, DigitsData.MaxPixel));
            Assert.True(result.LInfinity() <= budget + 1e-5, $"row {result.Index}: L∞ {result.LInfinity()} over {budget}");
        }
    }
}
