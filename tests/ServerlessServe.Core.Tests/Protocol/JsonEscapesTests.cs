using System.Text;
using System.Text.Json;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Tests.Protocol;

/// <summary>Escapes of half a surrogate pair, which System.Text.Json throws on when it decodes them.</summary>
public class JsonEscapesTests
{
    [Theory]
    [InlineData("""{"a":"b"}""")]
    [InlineData("""{"\u0061":"\u0062\n\"\\"}""")]
    [InlineData("""{"\ud83d\ude00":"\uD83D\uDE00"}""")] // whole pairs, either case
    [InlineData("""["\udbff\udfff", 1, null, {"x": [true]}]""")]
    [InlineData("""not json at all \udddd""")] // not JSON: left to the parse that follows
    public void AreWellFormed_NoUnpairedEscape_True(string json)
    {
        Assert.True(JsonEscapes.AreWellFormed(Encoding.UTF8.GetBytes(json)));
    }

    [Theory]
    [InlineData("""{"\udddd":1}""")] // a low half alone, in a name
    [InlineData("""{"a":"x\ud800"}""")] // a high half at the end of a string
    [InlineData("""{"a":"\ud800x"}""")] // a high half followed by a character
    [InlineData("""["\ude00\ud83d"]""")] // the halves in the wrong order
    [InlineData("""[{"a":[{"b":"\ud83d\ud83d"}]}]""")] // two high halves, deep down
    public void AreWellFormed_UnpairedEscape_False_AndTheLibraryWouldThrow(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);

        Assert.False(JsonEscapes.AreWellFormed(bytes));

        // What the check spares its callers: decoding every name and string throws, and not as a JsonException.
        Assert.Throws<InvalidOperationException>(() =>
        {
            var reader = new Utf8JsonReader(bytes);
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.PropertyName or JsonTokenType.String)
                {
                    _ = reader.GetString();
                }
            }
        });
    }

    [Theory]
    [InlineData(10)]
    [InlineData(1_000)] // past the stack buffer: a rented one
    public void IsWellFormed_LongValues_OnlyTheUnpairedOneFalse(int length)
    {
        var good = "\"" + string.Concat(Enumerable.Repeat("\\u00e9", length)) + "\"";
        var bad = "\"" + string.Concat(Enumerable.Repeat("\\u00e9", length)) + "\\ud800\"";

        Assert.True(Check(good));
        Assert.False(Check(bad));

        static bool Check(string json)
        {
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
            Assert.True(reader.Read());
            return JsonEscapes.IsWellFormed(ref reader);
        }
    }

    [Fact]
    public void AreWellFormed_ReadsWithTheParsesOptions()
    {
        // Past what the options allow, the text is not JSON to that parse, which refuses it itself.
        Assert.True(JsonEscapes.AreWellFormed("""[[["\udddd"]]]"""u8, new JsonReaderOptions { MaxDepth = 2 }));
        Assert.False(JsonEscapes.AreWellFormed("""[[["\udddd"]]]"""u8, new JsonReaderOptions { MaxDepth = 3 }));
    }
}
