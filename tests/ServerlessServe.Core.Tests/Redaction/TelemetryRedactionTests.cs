using ServerlessServe.Core.Redaction;

namespace ServerlessServe.Core.Tests.Redaction;

public class TelemetryRedactionTests
{
    [Fact]
    public void Text_WithEntities_Redacted() =>
        Assert.Equal("no account for [EMAIL] at [PHONE]", TelemetryRedaction.Text("no account for alice\u00AD@example.com at +44\u201320\u20137946\u20130958"));

    [Fact]
    public void Text_WithoutEntities_SameInstance()
    {
        const string text = "stage infer failed: [ErrorCode:InvalidArgument] dimension 3 != 4";

        Assert.Same(text, TelemetryRedaction.Text(text));
    }

    [Fact]
    public void Exception_MessageWithoutEntities_SameException()
    {
        var exception = new InvalidOperationException("secret internal detail", new FormatException("bad digit at 3"));

        Assert.Same(exception, TelemetryRedaction.Exception(exception));
    }

    [Fact]
    public void Exception_EntityInInnerMessage_ChainRedactedTypesAndStackKept()
    {
        var exception = Thrown(() => throw new InvalidOperationException("lookup failed", Thrown(() => throw new FormatException("'4111 1111 1111 1111' is not a valid id"))));

        var redacted = Assert.IsType<RedactedException>(TelemetryRedaction.Exception(exception));

        Assert.Equal(typeof(InvalidOperationException).FullName, redacted.OriginalType);
        Assert.Equal("lookup failed", redacted.Message);
        Assert.Equal(exception.StackTrace, redacted.StackTrace);
        var inner = Assert.IsType<RedactedException>(redacted.InnerException);
        Assert.Equal(typeof(FormatException).FullName, inner.OriginalType);
        Assert.Equal("'[CREDIT_CARD]' is not a valid id", inner.Message);
        Assert.DoesNotContain("4111", redacted.ToString(), StringComparison.Ordinal);
        Assert.Contains("System.FormatException (redacted): '[CREDIT_CARD]' is not a valid id", redacted.ToString(), StringComparison.Ordinal);
        Assert.Contains(nameof(Exception_EntityInInnerMessage_ChainRedactedTypesAndStackKept), redacted.ToString(), StringComparison.Ordinal);
    }

    private static Exception Thrown(Action action)
    {
        try
        {
            action();
        }
#pragma warning disable CA1031 // The test needs the thrown exception with its stack trace.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return ex;
        }

        throw new InvalidOperationException("did not throw");
    }
}
