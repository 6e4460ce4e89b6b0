using System.Text;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Tests.Protocol;

public class JobItemsTests
{
    private const string Request = """{"inputs":[{"name":"f","shape":[1],"datatype":"FP32","data":[1]}]}""";

    private static IReadOnlyList<string> Split(string body, int maxItems = 4) => JobItems.Split(Encoding.UTF8.GetBytes(body), maxItems, 64);

    [Fact]
    public void Split_OneRequest_IsItsOwnItem_WithoutTheSpaceAround() =>
        Assert.Equal([Request], Split("  " + Request + "\n"));

    [Fact]
    public void Split_Items_EachAsWritten_ANonObjectAsNull() =>
        Assert.Equal([Request, "null", "null", """{ "id" : "b" }"""], Split("""{"items":[""" + Request + """,7,[1],{ "id" : "b" }]}"""));

    [Theory]
    [InlineData("[]")]
    [InlineData("\"x\"")]
    [InlineData("{\"items\":[]}")]
    [InlineData("{\"items\":{}}")]
    [InlineData("{\"items\":[{}],\"id\":\"x\"}")]
    [InlineData("{\"inputs\":[")]
    [InlineData("{\"\\ud800\":1}")]
    public void Split_NotAJob_RefusedAsInvalid(string body)
    {
        var refused = Assert.Throws<RefusedException>(() => Split(body));

        Assert.Equal(RefusalKind.Invalid, refused.Kind);
    }

    [Fact]
    public void Split_NotUtf8_RefusedAsInvalid()
    {
        var refused = Assert.Throws<RefusedException>(() => JobItems.Split([(byte)'{', (byte)'"', 0xC3, (byte)'"', (byte)':', (byte)'1', (byte)'}'], 4, 64));

        Assert.Equal(RefusalKind.Invalid, refused.Kind);
    }

    [Fact]
    public void Split_MoreItemsThanAllowed_RefusedAsTooLarge()
    {
        var refused = Assert.Throws<RefusedException>(() => Split("{\"items\":[{},{},{}]}", maxItems: 2));

        Assert.Equal(RefusalKind.TooLarge, refused.Kind);
    }

    [Fact]
    public void Split_ItemsAsDeepAsARequestMayBe_TwoLevelsMoreForTheWrapper()
    {
        static string Nested(int depth) => new string('[', depth - 1) + new string(']', depth - 1);

        // An item of depth 64 (its object plus 63 arrays) in the wrapper's two levels: 66 in all.
        Assert.Single(JobItems.Split(Encoding.UTF8.GetBytes("{\"items\":[{\"a\":" + Nested(64) + "}]}"), 4, 64));
        Assert.Throws<RefusedException>(() => JobItems.Split(Encoding.UTF8.GetBytes("{\"items\":[{\"a\":" + Nested(65) + "}]}"), 4, 64));
    }
}
