using System.Text;
using ServerlessServe.Core.Audit;

namespace ServerlessServe.Core.Tests.Audit;

/// <summary>A segment's lines, found as they are read, front to back and back to front, the same lines either way.</summary>
public sealed class AuditLinesTests
{
    [Theory]
    [InlineData("", new string[0])]
    [InlineData("\n", new[] { "" })]
    [InlineData("a", new[] { "a" })]
    [InlineData("a\n", new[] { "a" })]
    [InlineData("a\nb", new[] { "a", "b" })]
    [InlineData("a\n\nb\n", new[] { "a", "", "b" })]
    [InlineData("\n\n\n", new[] { "", "", "" })]
    [InlineData("{\"seq\":1}\n{\"seq\":2}\n", new[] { "{\"seq\":1}", "{\"seq\":2}" })]
    public void SplitReverseCount_TheSameLines(string content, string[] expected)
    {
        var bytes = Encoding.ASCII.GetBytes(content);
        var forward = new List<string>();
        foreach (var (start, length) in AuditLines.Split(bytes))
        {
            forward.Add(Encoding.ASCII.GetString(bytes, start, length));
        }

        var backward = new List<string>();
        foreach (var (start, length) in AuditLines.Reverse(bytes))
        {
            backward.Add(Encoding.ASCII.GetString(bytes, start, length));
        }

        backward.Reverse();
        Assert.Equal(expected, forward);
        Assert.Equal(expected, backward);
        Assert.Equal(expected.Length, AuditLines.Count(bytes));
    }

    /// <summary>
    /// Sixty-four million empty lines: the first is had without a list of all of them (which took 512 MB here and
    /// about 2 GiB for a planted 256 MiB segment).
    /// </summary>
    [Fact]
    public void ManyLines_TheFirstWithoutListingThem()
    {
        var bytes = new byte[64 * 1024 * 1024];
        Array.Fill(bytes, (byte)'\n');
        var before = GC.GetAllocatedBytesForCurrentThread();

        var lines = AuditLines.Split(bytes);
        Assert.True(lines.MoveNext());
        var last = AuditLines.Reverse(bytes);
        Assert.True(last.MoveNext());

        Assert.Equal((0, 0), lines.Current);
        Assert.Equal((bytes.Length - 1, 0), last.Current);
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 1024);
    }
}
