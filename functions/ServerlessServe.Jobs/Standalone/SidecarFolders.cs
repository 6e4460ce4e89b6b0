using System.Net.Sockets;

namespace ServerlessServe.Jobs.Standalone;

/// <summary>
/// The folders the standalone durable sidecar listens in (<c>serverlessserve-durable-*</c> in the temp folder, mode
/// 0700, holding one Unix socket). A gateway that stops removes its own; one that is killed leaves it behind, so each
/// gateway sweeps, before it makes its own, the folders no process serves any more: a folder of this name and mode
/// whose only entry is the socket, and a connection to it is refused (nobody listens), or an empty one older than
/// <c>emptyAfter</c> (its gateway died before it listened; a gateway starting now has its folder empty for a moment),
/// the socket too no younger than that (a sidecar between bind and listen refuses connections for a moment).
/// Anything else (another entry, another mode, a link, a socket that answers, a folder this user cannot read) is left
/// as it is.
/// </summary>
internal static class SidecarFolders
{
    public const string Prefix = "serverlessserve-durable-";

    public const string SocketName = "sidecar.sock";

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Removes the stale sidecar folders under <paramref name="root"/>; returns how many.</summary>
    public static int SweepStale(string root, DateTime utcNow, TimeSpan emptyAfter)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        if (OperatingSystem.IsWindows())
        {
            return 0;
        }

        string[] folders;
        try
        {
            folders = Directory.GetDirectories(root, Prefix + "*", SearchOption.TopDirectoryOnly);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0;
        }

        var removed = 0;
        foreach (var folder in folders)
        {
            try
            {
                if (TryRemove(new DirectoryInfo(folder), utcNow, emptyAfter))
                {
                    removed++;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or SocketException)
            {
                // Gone meanwhile, another user's, or in use: left as it is.
            }
        }

        return removed;
    }

    private static bool TryRemove(DirectoryInfo folder, DateTime utcNow, TimeSpan emptyAfter)
    {
        if (folder.LinkTarget is not null || folder.UnixFileMode != OwnerOnly)
        {
            return false;
        }

        var entries = folder.GetFileSystemInfos();
        if (entries.Length == 0)
        {
            if (utcNow - folder.LastWriteTimeUtc < emptyAfter)
            {
                return false;
            }

            folder.Delete(recursive: false);
            return true;
        }

        // A socket as young as an empty folder may be mid-start: bound, not yet listening (refused for a moment). Only
        // one older than that, that nobody answers on, is a crashed sidecar's.
        if (entries.Length != 1 || entries[0].Name != SocketName || entries[0].LinkTarget is not null
            || utcNow - entries[0].LastWriteTimeUtc < emptyAfter || !NobodyListens(entries[0].FullName))
        {
            return false;
        }

        entries[0].Delete();
        folder.Delete(recursive: false);
        return true;
    }

    private static bool NobodyListens(string socketPath)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(socketPath));
            return false;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return true;
        }
    }
}
