using System.Text;
using ServerlessServe.Core.Security;

namespace ServerlessServe.Core.Tests.Security;

/// <summary>
/// A search over bytes that arrive in pieces finds exactly what a search of the bytes joined finds, wherever the pieces
/// split a value and however short they are.
/// </summary>
public sealed class CanarySearchTests
{
    private const string Short = "RK-7F3Q-MZ8W-K2XD";
    private const string Long = "canary.value_two~0123456789-abcdefghijklmnopqrstuvwxyz";

    private static readonly CanaryTokens Tokens = new([Short, Long]);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(16)]
    [InlineData(53)]
    [InlineData(54)]
    [InlineData(1000)]
    public void FixedPieceSize_EveryOffsetOfBothValues_FoundAsInTheWhole(int pieceSize)
    {
        for (var offset = 0; offset < 120; offset += 7)
        {
            var bytes = Body(240, (offset, Short), (offset + 60, Long));

            var search = Search(bytes, Enumerable.Repeat(pieceSize, (bytes.Length / pieceSize) + 1));

            Assert.Equal(Expected(bytes), search.Found.Order());
            Assert.Equal(2, search.Found.Count);
        }
    }

    [Fact]
    public void RandomPieces_SameAsTheWhole_IncludingCleanBodies()
    {
        var random = new Random(20261201);
        for (var round = 0; round < 500; round++)
        {
            var length = random.Next(0, 400);
            var values = new List<(int, string)>();
            if (length > Long.Length && random.Next(3) > 0)
            {
                var value = random.Next(2) == 0 ? Short : Long;
                values.Add((random.Next(0, length - value.Length), value));
            }

            var bytes = Body(length, [.. values]);
            var sizes = Enumerable.Range(0, length + 1).Select(_ => random.Next(0, 40));

            Assert.Equal(Expected(bytes), Search(bytes, sizes).Found.Order());
        }
    }

    [Fact]
    public void ValueOnlyInTheJoin_FoundOnce_NothingWhereThereIsNone()
    {
        var bytes = Encoding.ASCII.GetBytes("xx" + Short + "yy");
        var split = new CanarySearch(Tokens);

        split.Add(bytes.AsSpan(0, 9));
        split.Add(bytes.AsSpan(9));

        Assert.Equal([CanaryTokens.IdOf(Short)], split.Found);
        var clean = new CanarySearch(Tokens);
        clean.Add(Encoding.ASCII.GetBytes(Short[..10]));
        clean.Add(Encoding.ASCII.GetBytes("Z" + Short[11..]));
        Assert.Empty(clean.Found);
    }

    [Fact]
    public void NoTokens_FindsNothing()
    {
        var search = new CanarySearch(CanaryTokens.None);

        search.Add(Encoding.ASCII.GetBytes(Short));

        Assert.Empty(search.Found);
    }

    private static CanarySearch Search(byte[] bytes, IEnumerable<int> sizes)
    {
        var search = new CanarySearch(Tokens);
        var at = 0;
        foreach (var size in sizes)
        {
            var take = Math.Min(size, bytes.Length - at);
            search.Add(bytes.AsSpan(at, take));
            at += take;
        }

        search.Add(bytes.AsSpan(at));
        return search;
    }

    private static IOrderedEnumerable<string> Expected(byte[] bytes)
    {
        var whole = new HashSet<string>(StringComparer.Ordinal);
        Tokens.FindIn(bytes, whole);
        return whole.Order();
    }

    private static byte[] Body(int length, params (int Offset, string Value)[] values)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        foreach (var (offset, value) in values)
        {
            Encoding.ASCII.GetBytes(value).CopyTo(bytes, offset);
        }

        return bytes;
    }
}
