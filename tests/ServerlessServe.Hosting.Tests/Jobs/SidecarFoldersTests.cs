using System.Net.Sockets;
using System.Runtime.Versioning;
using ServerlessServe.Jobs.Standalone;

namespace ServerlessServe.Hosting.Tests.Jobs;

/// <summary>
/// The standalone gateway's sweep of durable sidecar folders left by killed processes: a folder whose socket nobody
/// listens on goes, and so does one left empty for long; a live sidecar's, a starting one's, and anything that is not
/// exactly such a folder stay. Real Unix sockets in a temp folder of the test's own (Unix file modes: not on Windows,
/// where the sweep does nothing).
/// </summary>
[UnsupportedOSPlatform("windows")]
public sealed class SidecarFoldersTests : IDisposable
{
    private static readonly TimeSpan Grace = TimeSpan.FromMinutes(10);
    private readonly string _root = Directory.CreateTempSubdirectory("sidecar-folders-").FullName;
    private readonly List<Socket> _listening = [];

    [Fact]
    public void DeadSocket_Removed_LiveSocket_Kept()
    {
        var dead = Folder("dead");
        Listen(dead).Dispose(); // The socket file stays; nobody listens any more.
        var live = Folder("live");
        _listening.Add(Listen(live));

        // A socket as young as the grace may belong to a sidecar between bind and listen: refused for a moment, alive.
        Assert.Equal(0, SidecarFolders.SweepStale(_root, DateTime.UtcNow, Grace));
        Assert.True(File.Exists(Path.Combine(dead, SidecarFolders.SocketName)));

        Assert.Equal(1, SidecarFolders.SweepStale(_root, DateTime.UtcNow + Grace + TimeSpan.FromSeconds(1), Grace));

        Assert.False(Directory.Exists(dead));
        Assert.True(File.Exists(Path.Combine(live, SidecarFolders.SocketName)));
    }

    [Fact]
    public void EmptyFolder_KeptWhileYoung_RemovedAfterTheGrace()
    {
        var starting = Folder("starting");

        Assert.Equal(0, SidecarFolders.SweepStale(_root, DateTime.UtcNow, Grace));
        Assert.True(Directory.Exists(starting));

        Assert.Equal(1, SidecarFolders.SweepStale(_root, DateTime.UtcNow + Grace + TimeSpan.FromSeconds(1), Grace));
        Assert.False(Directory.Exists(starting));
    }

    [Fact]
    public void AnythingElse_LeftAsItIs()
    {
        // A dead socket beside another file; a dead socket in a folder others may read; a dead socket in a folder of
        // another name; a link named like a sidecar folder (to a live one's).
        var withMore = Folder("with-more");
        Listen(withMore).Dispose();
        File.WriteAllText(Path.Combine(withMore, "notes.txt"), "keep");
        var open = Folder("open");
        Listen(open).Dispose();
        File.SetUnixFileMode(open, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
        var otherName = Directory.CreateDirectory(Path.Combine(_root, "other-durable-x"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute).FullName;
        Listen(otherName).Dispose();
        var link = Path.Combine(_root, SidecarFolders.Prefix + "link");
        var target = Folder("target-of-link");
        _listening.Add(Listen(target));
        Directory.CreateSymbolicLink(link, target);

        Assert.Equal(0, SidecarFolders.SweepStale(_root, DateTime.UtcNow + Grace + Grace, Grace));

        Assert.True(File.Exists(Path.Combine(withMore, "notes.txt")));
        Assert.True(File.Exists(Path.Combine(withMore, SidecarFolders.SocketName)));
        Assert.True(File.Exists(Path.Combine(open, SidecarFolders.SocketName)));
        Assert.True(File.Exists(Path.Combine(otherName, SidecarFolders.SocketName)));
        Assert.True(Directory.Exists(link));
        Assert.True(File.Exists(Path.Combine(target, SidecarFolders.SocketName)));
    }

    [Fact]
    public void MissingRoot_NothingToDo()
    {
        Assert.Equal(0, SidecarFolders.SweepStale(Path.Combine(_root, "absent"), DateTime.UtcNow, Grace));
    }

    public void Dispose()
    {
        foreach (var socket in _listening)
        {
            socket.Dispose();
        }

        Directory.Delete(_root, recursive: true);
    }

    private string Folder(string name) =>
        Directory.CreateDirectory(Path.Combine(_root, SidecarFolders.Prefix + name), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute).FullName;

    /// <summary>
    /// A socket listening at the folder's socket path. Disposing it leaves the file behind, as a killed process does:
    /// .NET removes the file a socket was bound to when it is disposed, so it is bound under another name and renamed.
    /// </summary>
    private static Socket Listen(string folder)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        var bound = Path.Combine(folder, "bound.sock");
        socket.Bind(new UnixDomainSocketEndPoint(bound));
        socket.Listen();
        File.Move(bound, Path.Combine(folder, SidecarFolders.SocketName));
        return socket;
    }
}
