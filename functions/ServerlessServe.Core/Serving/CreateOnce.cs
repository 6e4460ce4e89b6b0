namespace ServerlessServe.Core.Serving;

/// <summary>
/// A storage container or table created once per process, on first use. A creation that failed (storage not up yet, a
/// fault past the client's retries) is tried again by the next caller, instead of failing every later one until the
/// process restarts. A caller that stops waiting does not stop the creation.
/// </summary>
public sealed class CreateOnce(Func<Task> create)
{
    private Task? _created;

    /// <summary>Returns once the thing exists.</summary>
    public async Task EnsureAsync(CancellationToken cancellationToken = default)
    {
        var created = _created ??= create();
        try
        {
            await created.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (created.IsFaulted || created.IsCanceled)
        {
            _ = Interlocked.CompareExchange(ref _created, null, created);
            throw;
        }
    }
}
