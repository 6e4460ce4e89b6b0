namespace ServerlessServe.Hosting.Functions;

/// <summary>
/// A process's state and parent from Linux's <c>/proc/&lt;id&gt;/stat</c>, without a native call: the Functions-host
/// watch reads its own parent here, the local stack the processes an app started, and the tests a process's session.
/// </summary>
public static class ProcessStat
{
    /// <summary>
    /// The state letter (<c>R</c>, <c>S</c>, <c>Z</c> for a zombie, ...) and the parent id of process
    /// <paramref name="process"/> (an id, or <c>self</c>), or null when it is gone or cannot be read. The file reads
    /// "id (name) state parent ...", and the name may hold spaces and parentheses, so the fields are read after the last ')'.
    /// </summary>
    public static (char State, int Parent)? Read(string process)
    {
        var fields = Fields(process);
        return fields is { Length: > 1 } && fields[0].Length == 1 && int.TryParse(fields[1], System.Globalization.CultureInfo.InvariantCulture, out var parent)
            ? (fields[0][0], parent)
            : null;
    }

    /// <summary>
    /// The session id of process <paramref name="process"/> (the id of the process that leads its session), or null when
    /// it is gone or cannot be read: the tests' check that a lane and its stack run in a session of their own.
    /// </summary>
    public static int? Session(string process)
    {
        var fields = Fields(process);
        return fields is { Length: > 3 } && int.TryParse(fields[3], System.Globalization.CultureInfo.InvariantCulture, out var session)
            ? session
            : null;
    }

    // The fields after the name: state, parent, process group, session, ...
    private static string[]? Fields(string process)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{process}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        var close = text.LastIndexOf(')');
        return close < 0 ? [] : text[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }
}
