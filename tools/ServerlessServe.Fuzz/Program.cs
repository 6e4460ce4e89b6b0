using ServerlessServe.Fuzz;
using SharpFuzz;

// ServerlessServe.Fuzz [TARGET] [PATH]. TARGET is `request` (the default: the V2 body reader, RequestReaderTarget),
// `headers` (what the gateway reads from a caller's headers before it knows the caller, HeadersTarget), `audit` (the
// stored documents the audit verifier reads and a caller's receipt, AuditTarget), `artifact` (a model version's
// files, ArtifactTarget) or `jobs` (a job submission's body and its items, JobItemsTarget). Without PATH:
// the forkserver loop under afl-fuzz (run.sh), over the instrumented assemblies. With a PATH: replays each file of that
// folder (or that one file) once and exits 1 on the first finding. A lone argument that names no target is a PATH for
// `request`, as before there were several targets.
var targets = FuzzTargets.All;
var named = args.Length > 0 && targets.ContainsKey(args[0]);
var target = targets[named ? args[0] : "request"];
var path = named ? args.ElementAtOrDefault(1) : args.ElementAtOrDefault(0);
if (path is not null)
{
    var files = Directory.Exists(path) ? Directory.GetFiles(path) : [path];
    foreach (var file in files.Order(StringComparer.Ordinal))
    {
        try
        {
            target(File.ReadAllBytes(file));
        }
#pragma warning disable CA1031 // A finding of any type is reported, not thrown.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Console.Error.WriteLine($"{Path.GetFileName(file)}: {ex.GetType().Name}: {ex.Message}");
            return 1;
        }
    }

    Console.WriteLine($"{files.Length} inputs replayed, no finding");
    return 0;
}

Fuzzer.OutOfProcess.Run(stream =>
{
    using var buffer = new MemoryStream();
    stream.CopyTo(buffer);
    target(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
});
return 0;
