namespace ServerlessServe.Onnx;

/// <summary>A run shared by several items, ended early only when every one of them has been cancelled.</summary>
internal sealed class SharedRun(BatchItem[] members, CancellationTokenSource cancellation)
{
    public void MemberCancelled()
    {
        if (members.All(m => m.IsDone))
        {
            try
            {
                cancellation.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The run has finished already.
            }
        }
    }
}
