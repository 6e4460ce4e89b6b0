using BenchmarkDotNet.Attributes;
using ServerlessServe.Core.Defenses.Extraction;

namespace ServerlessServe.Benchmarks;

/// <summary>
/// The model-extraction detector on one 64-feature query (the digits model's input), at steady state: each caller's
/// state has already seen 2,000 queries, and each call observes the next of 16,384 distinct continuous queries in ten
/// clusters (the class a query is observed with). With repeats recognised (the default, a SHA-256 fingerprint per query
/// and a look through the latest 500) and with <see cref="ExtractionDetectorOptions.RepeatWindow"/> 0, and the cost of
/// an exact repeat.
/// </summary>
[MemoryDiagnoser]
public class ExtractionBenchmarks
{
    private const int Features = 64;
    private const int Pool = 16_384;
    private static readonly DateTimeOffset Start = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly ExtractionDetector _recognising = new(new ExtractionDetectorOptions { VolumeLimit = int.MaxValue });
    private readonly ExtractionDetector _counting = new(new ExtractionDetectorOptions { VolumeLimit = int.MaxValue, RepeatWindow = 0 });
    private float[][] _queries = null!;
    private int[] _labels = null!;
    private ExtractionState _recognisingState = null!;
    private ExtractionState _countingState = null!;
    private ExtractionState _repeatState = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(5);
        var centres = Enumerable.Range(0, 10).Select(_ => Enumerable.Range(0, Features).Select(_ => random.NextSingle() * 16f).ToArray()).ToArray();
        _labels = Enumerable.Range(0, Pool).Select(_ => random.Next(10)).ToArray();
        _queries = _labels.Select(label => centres[label].Select(c => Math.Clamp(c + (float)(random.NextDouble() * 6.0 - 3.0), 0f, 16f)).ToArray()).ToArray();
        _recognisingState = Warm(_recognising);
        _countingState = Warm(_counting);
        _repeatState = Warm(_recognising);
    }

    /// <summary>A new query, repeats recognised (the default).</summary>
    [Benchmark(Baseline = true)]
    public ExtractionVerdict Observe_NewQuery_RepeatsRecognised() => Observe(_recognising, _recognisingState);

    /// <summary>A new query, repeats counted as any query (<c>RepeatWindow</c> 0, as before repeats were recognised).</summary>
    [Benchmark]
    public ExtractionVerdict Observe_NewQuery_RepeatsCounted() => Observe(_counting, _countingState);

    /// <summary>The caller's latest query sent again: recognised as a repeat, counted towards volume only.</summary>
    [Benchmark]
    public ExtractionVerdict Observe_Repeat() => _recognising.Observe(_repeatState, _queries[1999], _labels[1999], Start);

    private ExtractionVerdict Observe(ExtractionDetector detector, ExtractionState state)
    {
        var i = _next++ % Pool;
        return detector.Observe(state, _queries[i], _labels[i], Start);
    }

    private ExtractionState Warm(ExtractionDetector detector)
    {
        var state = detector.CreateState(Features);
        for (var i = 0; i < 2000; i++)
        {
            detector.Observe(state, _queries[i], _labels[i], Start);
        }

        return state;
    }
}
