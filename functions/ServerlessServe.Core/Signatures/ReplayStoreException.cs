namespace ServerlessServe.Core.Signatures;

/// <summary>The replay store could not be written (kept apart from a key-table failure for the log).</summary>
internal sealed class ReplayStoreException(Exception inner) : Exception("The replay store could not be written.", inner);
