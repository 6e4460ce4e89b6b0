using ServerlessServe.Fuzz;
using SharpFuzz;

// Under afl-fuzz (run.sh): the forkserver loop over the instrumented ServerlessServe.Core. With a path: replays each
// file of that folder (or that one file) once and exits 1 on the first finding.
if (args.Length == 1)
{
    var files = Directory.Exists(args[0]) ? Directory.GetFiles(args[0]) : [args[0]];
    foreach (var file in files.Order(StringComparer.Ordinal))
    {
        try
        {
            RequestReaderTarget.Run(File.ReadAllBytes(file));
        }
#pragma warning disable CA1031 // A finding of any type is reported, not thrown.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Console.Error.WriteLine($"{Path.GetFileName(file)}: {ex.GetType().Name}");
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
    RequestReaderTarget.Run(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
});
return 0;
