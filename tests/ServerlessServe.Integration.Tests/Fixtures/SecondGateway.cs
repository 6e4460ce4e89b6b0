using ServerlessServe.Local;

namespace ServerlessServe.Integration.Tests.Fixtures;

/// <summary>
/// A second gateway (with its own inference app) on the stack's storage and models: another instance of the same app,
/// started when first asked for (and again after another extra pair ran: <see cref="StackFixture.ExtraPairAsync"/>).
/// Its volume limit for extraction detection is reached in a few requests, and its extraction state is flushed at once.
/// </summary>
public static class SecondGateway
{
    private static readonly Dictionary<string, string> Settings = new()
    {
        ["ServerlessServe:Extraction:VolumeLimit"] = "20",
        ["ServerlessServe:Extraction:Store:FlushInterval"] = "00:00:00.200",
    };

    public static Task<AppPair> StartAsync(StackFixture fixture) => fixture.ExtraPairAsync("second", fixture.Host, Settings);
}
