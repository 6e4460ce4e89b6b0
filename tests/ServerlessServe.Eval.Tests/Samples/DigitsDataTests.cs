using ServerlessServe.Local.Samples;

namespace ServerlessServe.Eval.Tests.Samples;

public sealed class DigitsDataTests
{
    [Fact]
    public void LoadAll_EmbeddedFile_EveryRowInRangeAndEveryDigitPresent()
    {
        var all = DigitsData.LoadAll();

        Assert.Equal(DigitsData.RowCount, all.Count);
        Assert.Equal(DigitsData.RowCount * DigitsData.PixelCount, all.Pixels.Length);
        Assert.All(all.Pixels.ToArray(), p => Assert.InRange(p, 0f, DigitsData.MaxPixel));
        Assert.All(all.Pixels.ToArray(), p => Assert.Equal(MathF.Round(p), p));
        Assert.Equal(Enumerable.Range(0, DigitsData.ClassCount), all.Labels.Distinct().Order());

        // The first line of digits.csv: a 0.
        Assert.Equal(0, all.Labels[0]);
        Assert.Equal([0f, 0f, 5f, 13f, 9f, 1f, 0f, 0f], all.Row(0)[..8]);
    }

    [Fact]
    public void Load_Split_SizesAreAQuarterOfEachDigit()
    {
        var all = DigitsData.LoadAll();
        var split = DigitsData.Load();

        Assert.Equal(1352, split.Train.Count);
        Assert.Equal(445, split.Test.Count);
        for (var digit = 0; digit < DigitsData.ClassCount; digit++)
        {
            var total = all.Labels.Count(l => l == digit);
            Assert.Equal(total / DigitsData.TestEvery, split.Test.Labels.Count(l => l == digit));
            Assert.Equal(total - (total / DigitsData.TestEvery), split.Train.Labels.Count(l => l == digit));
        }
    }

    [Fact]
    public void Load_Split_DisjointCoversEveryRowAndKeepsRowsIntact()
    {
        var all = DigitsData.LoadAll();
        var split = DigitsData.Load();

        Assert.Empty(split.Train.FileRows.Intersect(split.Test.FileRows));
        Assert.Equal(Enumerable.Range(0, DigitsData.RowCount), split.Train.FileRows.Concat(split.Test.FileRows).Order());
        foreach (var part in new[] { split.Train, split.Test })
        {
            Assert.True(part.FileRows.SequenceEqual(part.FileRows.Order()), "each part keeps file order");
            for (var i = 0; i < part.Count; i++)
            {
                Assert.Equal(all.Labels[part.FileRows[i]], part.Labels[i]);
                Assert.Equal(all.Row(part.FileRows[i]), part.Row(i));
            }
        }
    }

    [Fact]
    public void Load_Split_EveryFourthRowOfADigitIsATestRow()
    {
        var all = DigitsData.LoadAll();
        var test = DigitsData.Load().Test.FileRows.ToHashSet();

        for (var digit = 0; digit < DigitsData.ClassCount; digit++)
        {
            var rows = Enumerable.Range(0, all.Count).Where(r => all.Labels[r] == digit).ToArray();
            for (var k = 0; k < rows.Length; k++)
            {
                Assert.Equal(k % DigitsData.TestEvery == DigitsData.TestEvery - 1, test.Contains(rows[k]));
            }
        }
    }

    [Fact]
    public void Row_Copy_ChangingItLeavesTheSetAlone()
    {
        var test = DigitsData.Load().Test;
        var row = test.Row(0);
        var before = row.ToArray();

        row[0] = 99;

        Assert.Equal(before, test.Row(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => test.Row(test.Count));
    }
}
