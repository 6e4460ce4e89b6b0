using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace ServerlessServe.Core.Tests.Audit;

/// <summary>A logger that fails on every Error or Critical entry (after writing it to the test output), as a broken log sink would.</summary>
internal sealed class ThrowingErrorLogger<T>(ITestOutputHelper output) : ILogger<T>
{
    private readonly TestOutputLogger<T> _inner = new(output);

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        _inner.Log(logLevel, eventId, state, exception, formatter);
        if (logLevel >= LogLevel.Error)
        {
            throw new InvalidOperationException("injected: the log sink failed");
        }
    }
}
