using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Defenses;
using ServerlessServe.Core.Defenses.Extraction;
using ServerlessServe.Core.Policy;
using ServerlessServe.Core.Security;
using ServerlessServe.Core.Tests.Fixtures;
using ServerlessServe.Core.Tests.Security;

namespace ServerlessServe.Core.Tests.Defenses.Extraction;

/// <summary>
/// The extraction state store against a real Azurite table: instances that share the table end with every
/// observation (merge by replay, through both conflicts: an insert that meets another's entity, a write whose ETag is
/// stale), a new instance continues the stored state, an evicted state is written before it is dropped, and a merge that
/// raises a signal raises its alarm. Passes are run by the tests (no background loop, no timing).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ExtractionStateStoreTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly ExtractionKey Caller = new("digits", "0123456789abcdef0123456789abcdef", SyntheticCallers.Dimension);
    private static readonly ExtractionSubject Subject = new(
        new ExtractionPolicy { Mode = DefenseMode.Enforce, Input = "pixels", Output = "probabilities" }, "1");

    private static readonly string StoredRow = Caller.RowKey;

    private readonly TableClient _table = azurite.GetTable("extraction");
    private readonly SyntheticCallers _model = new(17);
    private readonly List<ExtractionStateStore> _stores = [];

    public Task InitializeAsync() => _table.CreateIfNotExistsAsync();

    public async Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        await _table.DeleteAsync();
    }

    [Fact]
    public async Task TwoInstances_SharingOneTable_EndWithEveryObservationOfTheCaller()
    {
        var a = Store();
        var b = Store();
        var queries = _model.Benign().Take(160).ToList();

        Observe(a, Caller, queries[..50]);
        Observe(b, Caller, queries[50..120]);
        await b.LoadQueuedAsync(CancellationToken.None);           // nothing stored yet: b will insert
        Assert.Equal(0, await a.FlushAsync(CancellationToken.None)); // a inserts its 50
        Assert.Equal(0, await b.FlushAsync(CancellationToken.None)); // b's insert meets a's entity (409): 50 + 70
        Observe(a, Caller, queries[120..150]);
        Assert.Equal(0, await a.FlushAsync(CancellationToken.None)); // a's ETag is stale (412): 120 + 30
        Observe(b, Caller, queries[150..]);
        Assert.Equal(0, await b.FlushAsync(CancellationToken.None)); // stale again: 150 + 10

        var stored = (await a.ReadAsync(Caller, CancellationToken.None))!.State!;
        Assert.Equal(160, stored.QueryCount);
        Assert.Equal(160, stored.Volume.Total);
        Assert.Equal(stored.QueryCount, Observe(b, Caller, []).Verdict.Query);

        // The entity as an operator (or a test) reads it.
        var entity = (await _table.GetEntityAsync<TableEntity>(Caller.Model, StoredRow)).Value;
        Assert.Equal(ExtractionStateStore.EntityFormat, entity.GetInt32("Format"));
        Assert.Equal(1, entity.GetInt32("Chunks"));
        Assert.Equal(160L, entity.GetInt64("Queries"));
        Assert.Equal(0, entity.GetInt32("Signals"));
        Assert.Equal(2, entity.GetString("Writers").Split(',').Length);
    }

    [Fact]
    public async Task Merge_ObservationsReplayedIntoTheStoredState_SameStateAsOneInstanceSeeingThemInOrder()
    {
        var a = Store();
        var b = Store();
        var queries = _model.Benign().Take(300).ToList();
        Observe(a, Caller, queries[..200]);
        await a.FlushAsync(CancellationToken.None);
        Observe(b, Caller, queries[200..]);

        await b.FlushAsync(CancellationToken.None);

        var detector = new ExtractionDetector(new ExtractionDetectorOptions());
        var alone = detector.CreateState(SyntheticCallers.Dimension);
        foreach (var query in queries)
        {
            detector.Observe(alone, query, _model.Predict(query), Start);
        }

        var stored = (await b.ReadAsync(Caller, CancellationToken.None))!.State!;
        Assert.Equal(detector.Serialize(alone), detector.Serialize(stored));
    }

    [Fact]
    public async Task Merge_ScreenOutcomesReplayedWithTheQueries_SameStateAsOneInstanceSeeingThemInOrder()
    {
        var a = Store();
        var b = Store();
        var queries = _model.Benign().Take(120).ToList();
        a.ObserveScreened(Caller, Subject, SyntheticCallers.Dimension, 30, 2, Start);
        Observe(a, Caller, queries[..60]);
        await a.FlushAsync(CancellationToken.None);
        b.ObserveScreened(Caller, Subject, SyntheticCallers.Dimension, 45, 5, Start);
        Observe(b, Caller, queries[60..]);
        b.ObserveScreened(Caller, Subject, SyntheticCallers.Dimension, 8, 8, Start);

        await b.FlushAsync(CancellationToken.None);                  // b reads a's state and replays its three observations into it

        var detector = new ExtractionDetector(new ExtractionDetectorOptions());
        var alone = detector.CreateState(SyntheticCallers.Dimension);
        detector.ObserveScreened(alone, 30, 2);
        queries[..60].ForEach(q => detector.Observe(alone, q, _model.Predict(q), Start));
        detector.ObserveScreened(alone, 45, 5);
        queries[60..].ForEach(q => detector.Observe(alone, q, _model.Predict(q), Start));
        detector.ObserveScreened(alone, 8, 8);
        var stored = (await b.ReadAsync(Caller, CancellationToken.None))!.State!;
        Assert.Equal(83, stored.ScreenedCount);
        Assert.Equal(detector.Serialize(alone), detector.Serialize(stored));
    }

    [Fact]
    public async Task Merge_ScreenedRowsOfTwoInstances_RaiseTheOutOfDistributionSignal_OneAlarmFromTheMerge()
    {
        // Each instance sees 30 flagged rows, under the 50 the signal needs; the stored state holds 60.
        var events = new RecordingSecurityEvents();
        var a = Store(events: events);
        var b = Store(events: events);

        Assert.Equal(ExtractionSignals.None, a.ObserveScreened(Caller, Subject, SyntheticCallers.Dimension, 30, 30, Start).NewlyRaised);
        Assert.Equal(ExtractionSignals.None, b.ObserveScreened(Caller, Subject, SyntheticCallers.Dimension, 30, 30, Start).NewlyRaised);
        await a.FlushAsync(CancellationToken.None);
        await b.FlushAsync(CancellationToken.None);

        var alarm = Assert.Single(events.Raised);
        Assert.Equal("outOfDistribution", alarm.Evidence["signals"]);
        Assert.Equal(("1", "60", "0.2"), (alarm.Evidence["oodShare"], alarm.Evidence["screened"], alarm.Evidence["oodThreshold"]));
        Assert.Null(alarm.RequestId);
        Assert.Equal((int)ExtractionSignals.OutOfDistribution, (await _table.GetEntityAsync<TableEntity>(Caller.Model, StoredRow)).Value.GetInt32("Signals"));
        Assert.Equal(0L, (await _table.GetEntityAsync<TableEntity>(Caller.Model, StoredRow)).Value.GetInt64("Queries"));
    }

    [Fact]
    public async Task NewInstance_AfterRestart_LoadsThePersistedStateAndReplaysWhatItObservedMeanwhile()
    {
        var before = Store();
        var queries = _model.Benign().Take(45).ToList();
        Observe(before, Caller, queries[..40]);
        await before.FlushAsync(CancellationToken.None);

        var after = Store();
        var first = Observe(after, Caller, queries[40..41]);
        Assert.Equal(1, first.Verdict.Query);                          // the request path never waits for the table
        await after.LoadQueuedAsync(CancellationToken.None);
        var next = Observe(after, Caller, queries[41..]);

        Assert.Equal(45, next.Verdict.Query);
        await after.FlushAsync(CancellationToken.None);
        Assert.Equal(45, (await after.ReadAsync(Caller, CancellationToken.None))!.State!.QueryCount);
    }

    [Fact]
    public async Task Eviction_LeastRecentlyUsedStateWrittenThenDropped_ReadBackWhenItsCallerReturns()
    {
        var store = Store(maxStates: 2);
        var callers = Enumerable.Range(0, 3).Select(i => Caller with { Caller = $"{i:x32}" }).ToList();
        var queries = _model.Benign().Take(30).ToList();
        foreach (var caller in callers)
        {
            Observe(store, caller, queries[..10]);
        }

        Assert.Equal(2, store.Count);
        Assert.Null(await store.ReadAsync(callers[0], CancellationToken.None)); // evicted, not written yet
        Assert.Equal(0, await store.FlushAsync(CancellationToken.None));

        Assert.Equal(10, (await store.ReadAsync(callers[0], CancellationToken.None))!.State!.QueryCount);
        Observe(store, callers[0], queries[10..20]);                    // back: fresh at first, then merged
        await store.LoadQueuedAsync(CancellationToken.None);
        Assert.Equal(21, Observe(store, callers[0], queries[20..21]).Verdict.Query);
        Assert.Equal(2, store.Count);
    }

    [Fact]
    public async Task Merge_RaisesASignalNeitherInstanceRaisedAlone_OneAlarmFromTheMerge()
    {
        var events = new RecordingSecurityEvents();
        var options = new ExtractionDetectorOptions { VolumeLimit = 50 };
        var a = Store(detectorOptions: options, events: events);
        var b = Store(detectorOptions: options, events: events);
        var queries = _model.Benign().Take(60).ToList();

        Assert.Equal(ExtractionSignals.None, Observe(a, Caller, queries[..30]).NewlyRaised);
        Assert.Equal(ExtractionSignals.None, Observe(b, Caller, queries[30..]).NewlyRaised);
        await a.FlushAsync(CancellationToken.None);
        await b.FlushAsync(CancellationToken.None);

        var alarm = Assert.Single(events.Raised);
        Assert.Equal(SecurityEventKinds.Extraction, alarm.Kind);
        Assert.Equal(Caller.Caller, alarm.Caller);
        Assert.Equal("digits", alarm.Model);
        Assert.Null(alarm.RequestId);
        Assert.Equal("volume", alarm.Evidence["signals"]);
        Assert.Equal("60", alarm.Evidence["volume"]);
        Assert.Equal(ContainmentKind.Block, alarm.Action.Kind);
        Assert.Equal(TimeSpan.FromHours(1), alarm.Action.Duration);

        // The signal is in the stored state: an instance that reads it does not raise it again.
        var c = Store(detectorOptions: options, events: events);
        Observe(c, Caller, queries[..1]);
        await c.LoadQueuedAsync(CancellationToken.None);
        Assert.Equal(ExtractionSignals.None, Observe(c, Caller, queries[1..2]).NewlyRaised);
        await c.FlushAsync(CancellationToken.None);
        Assert.Single(events.Raised);
        Assert.Equal((int)ExtractionSignals.Volume, (await _table.GetEntityAsync<TableEntity>(Caller.Model, StoredRow)).Value.GetInt32("Signals"));
    }

    /// <summary>
    /// A caller blocked for volume whose first request after the block is screened before the model (a model with an
    /// out-of-distribution screen and an extraction policy) is judged on its volume as of then, not as of its last
    /// query an hour before. Found in review 2026-12-07: it was blocked for another hour at volume 1.
    /// </summary>
    [Fact]
    public void ScreenedAfterTheBlock_VolumeAsOfNow_NotRaisedAgain()
    {
        var store = Store(detectorOptions: new ExtractionDetectorOptions { VolumeLimit = 50 });
        var queries = _model.Benign().Take(70).ToList();

        Assert.Equal(ExtractionSignals.Volume, Observe(store, Caller, queries[..60], Start).NewlyRaised);
        var screened = store.ObserveScreened(Caller, Subject, SyntheticCallers.Dimension, 1, 0, Start + TimeSpan.FromMinutes(61));

        Assert.Equal(ExtractionSignals.None, screened.NewlyRaised);
        Assert.False(screened.Verdict.Signals.HasFlag(ExtractionSignals.Volume));
        Assert.Equal(0, screened.Verdict.VolumeCount);
        // Still over it within the window: the volume as of then counts the queries still in it.
        var store2 = Store(detectorOptions: new ExtractionDetectorOptions { VolumeLimit = 50 });
        Observe(store2, Caller, queries[..60], Start);
        Assert.True(store2.ObserveScreened(Caller, Subject, SyntheticCallers.Dimension, 1, 0, Start + TimeSpan.FromMinutes(2)).Verdict.Signals.HasFlag(ExtractionSignals.Volume));
    }

    /// <summary>
    /// A signal still active once its alarm has run its course raises again: after the hour of the default block, and
    /// at once when the policy asks for another action than the alarm did (shadow, then enforce). Found in review
    /// 2026-12-07: a signal raised once was never raised again, so a blocked caller went on extracting unhindered once
    /// the block ended, and one flagged in shadow mode was never contained.
    /// </summary>
    [Fact]
    public void ActiveSignal_RaisesAgainOnceItsAlarmHasRunItsCourse_OrThePolicyAsksForAnotherAction()
    {
        var store = Store(detectorOptions: new ExtractionDetectorOptions { VolumeLimit = 50 });
        var queries = _model.Benign().Take(120).ToList();

        Assert.Equal(ExtractionSignals.Volume, Observe(store, Caller, queries[..60], Start).NewlyRaised);
        Assert.Equal(ExtractionSignals.None, Observe(store, Caller, queries[60..61], Start + TimeSpan.FromMinutes(1)).NewlyRaised);
        // The block ends after an hour; a caller back under the limit raises nothing, one over it again raises it.
        Assert.Equal(ExtractionSignals.None, Observe(store, Caller, queries[61..62], Start + TimeSpan.FromMinutes(61)).NewlyRaised);
        Assert.Equal(ExtractionSignals.Volume, Observe(store, Caller, queries[62..120], Start + TimeSpan.FromMinutes(62)).NewlyRaised);

        var shadowed = Caller with { Caller = "fedcba9876543210fedcba9876543210" };
        var shadow = Subject with { Policy = Subject.Policy with { Mode = DefenseMode.Shadow } };
        Assert.Equal(ExtractionSignals.Volume, Observe(store, shadowed, queries[..60], Start, shadow).NewlyRaised);
        Assert.Equal(ExtractionSignals.None, Observe(store, shadowed, queries[60..61], Start, shadow).NewlyRaised);
        Assert.Equal(ExtractionSignals.Volume, Observe(store, shadowed, queries[61..62], Start).NewlyRaised);
        Assert.Equal(ExtractionSignals.None, Observe(store, shadowed, queries[62..63], Start).NewlyRaised);
    }

    /// <summary>
    /// A signal another instance raised is learnt from the table as of when it was alarmed there: once that alarm has run
    /// its course, the caller still over the limit is contained again by this instance too (review 2026-12-08: learnt
    /// signals were stamped as alarmed at the load, so an instance that read the state held it off for another whole
    /// action's duration). Read right after the alarm, it is not raised twice.
    /// </summary>
    [Fact]
    public async Task SignalLearntFromTheTable_AsOfItsAlarm_RaisedAgainOnceItsAlarmHasRunItsCourse()
    {
        var volume = new ExtractionDetectorOptions { VolumeLimit = 50 };
        var queries = _model.Benign().Take(130).ToList();
        var first = Store(detectorOptions: volume);
        Assert.Equal(ExtractionSignals.Volume, Observe(first, Caller, queries[..60], Start).NewlyRaised);
        await first.FlushAsync(CancellationToken.None);

        // Read right after the alarm: held, as on the instance that raised it.
        var soon = Store(detectorOptions: volume);
        Observe(soon, Caller, queries[60..61], Start + TimeSpan.FromMinutes(1));
        await soon.LoadQueuedAsync(CancellationToken.None);
        Assert.Equal(ExtractionSignals.None, Observe(soon, Caller, queries[61..62], Start + TimeSpan.FromMinutes(1)).NewlyRaised);

        // Read after the hour's block: the caller over the limit again is contained again, once.
        var later = Store(detectorOptions: volume);
        Observe(later, Caller, queries[62..63], Start + TimeSpan.FromMinutes(62));
        await later.LoadQueuedAsync(CancellationToken.None);
        Assert.Equal(ExtractionSignals.Volume, Observe(later, Caller, queries[63..125], Start + TimeSpan.FromMinutes(62)).NewlyRaised);
        Assert.Equal(ExtractionSignals.None, Observe(later, Caller, queries[125..126], Start + TimeSpan.FromMinutes(63)).NewlyRaised);
    }

    /// <summary>
    /// A state stored without alarm times (by a build before them) is read as before, its signals held from the read;
    /// that read time is never written back as an alarm time, which other instances would take over their own.
    /// </summary>
    [Fact]
    public async Task StoredWithoutAlarmTimes_ReadAsBefore_TheReadTimeNeverWrittenBack()
    {
        var volume = new ExtractionDetectorOptions { VolumeLimit = 50 };
        var queries = _model.Benign().Take(70).ToList();
        var first = Store(detectorOptions: volume);
        Observe(first, Caller, queries[..60], Start);
        await first.FlushAsync(CancellationToken.None);
        var entity = (await _table.GetEntityAsync<TableEntity>(Caller.Model, StoredRow)).Value;
        Assert.StartsWith("2=", entity.GetString("AlarmedAt"), StringComparison.Ordinal);
        entity.Remove("AlarmedAt");
        await _table.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace);

        var second = Store(detectorOptions: volume);
        Observe(second, Caller, queries[60..61], Start + TimeSpan.FromMinutes(1));
        await second.LoadQueuedAsync(CancellationToken.None);
        Assert.Equal(ExtractionSignals.None, Observe(second, Caller, queries[61..62], Start + TimeSpan.FromMinutes(1)).NewlyRaised);
        await second.FlushAsync(CancellationToken.None);

        Assert.Equal(string.Empty, (await _table.GetEntityAsync<TableEntity>(Caller.Model, StoredRow)).Value.GetString("AlarmedAt"));
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("2=1735689600000", "2=1735689600000")]
    [InlineData("4=5;2=7", "2=7;4=5")]
    [InlineData("x=1;2=;=3;2=abc;3=4;999=1;2=99999999999999999", "")]
    public void AlarmTimes_FormattedAndParsed_MalformedSkipped(string stored, string expected) =>
        Assert.Equal(expected, ExtractionStateStore.FormatAlarms(ExtractionStateStore.ParseAlarms(stored)));

    /// <summary>
    /// Versions of one model whose inputs differ in width keep a state each: a caller alternating between them still
    /// goes over the volume limit on the one it queries most. Found in review 2026-12-07: the two shared one state,
    /// which a request of the other width started afresh, so 49 rows to one version and 1 to the other, over and over,
    /// never raised anything.
    /// </summary>
    [Fact]
    public async Task TwoInputWidths_AlternatingBetweenThem_EachKeepsItsState()
    {
        var store = Store(detectorOptions: new ExtractionDetectorOptions { VolumeLimit = 50 });
        var queries = _model.Benign().Take(100).ToList();
        var raised = ExtractionSignals.None;
        for (var round = 0; round < 2; round++)
        {
            raised |= Observe(store, Caller, queries.GetRange(round * 49, 49)).NewlyRaised;
            var wider = queries[98 + round].Append(0f).ToArray();
            raised |= store.Observe(Caller, Subject, wider, SyntheticCallers.Dimension + 1, [_model.Predict(queries[98 + round])], Start).NewlyRaised;
        }

        Assert.Equal(ExtractionSignals.Volume, raised);
        await store.FlushAsync(CancellationToken.None);
        Assert.Equal(
            [98L, 2L],
            (await _table.QueryAsync<TableEntity>(e => e.PartitionKey == Caller.Model).ToListAsync()).OrderBy(e => e.RowKey, StringComparer.Ordinal).Select(e => e.GetInt64("Queries")!.Value));
    }

    [Fact]
    public async Task Merge_StoredStateAlreadyHoldsOurObservations_NotReplayedTwice()
    {
        // As if this store's insert had succeeded without its answer arriving: the stored state holds its 10
        // observations and names it as their writer up to its 10th.
        var store = Store();
        var queries = _model.Benign().Take(10).ToList();
        Observe(store, Caller, queries);
        var detector = new ExtractionDetector(new ExtractionDetectorOptions());
        var state = detector.CreateState(SyntheticCallers.Dimension);
        foreach (var query in queries)
        {
            detector.Observe(state, query, _model.Predict(query), Start);
        }

        await _table.AddEntityAsync(ExtractionStateStore.Entity(Caller, detector.Serialize(state), state.RaisedEver, state.QueryCount, [new StoredWriter(store.Instance, 10)]));

        Assert.Equal(0, await store.FlushAsync(CancellationToken.None));

        Assert.Equal(10, Observe(store, Caller, []).Verdict.Query);
        Assert.Equal(10, (await store.ReadAsync(Caller, CancellationToken.None))!.State!.QueryCount);
    }

    [Theory]
    [InlineData("a:3,b:7", "c", 9, "c:9,a:3,b:7")]
    [InlineData("a:3,b:7", "b", 9, "b:9,a:3")]
    [InlineData("", "a", 1, "a:1")]
    [InlineData("a:x,:4,b:2", "c", 5, "c:5,b:2")]
    public void StoredWriters_AfterAWrite_WriterFirstOthersKept_MalformedSkipped(string stored, string instance, long sequence, string expected) =>
        Assert.Equal(expected, StoredWriter.Format(StoredWriter.After(StoredWriter.Parse(stored), instance, sequence)));

    [Fact]
    public void StoredWriters_ManyWriters_MostRecentKept()
    {
        var writers = Enumerable.Range(0, 40).Aggregate((IReadOnlyList<StoredWriter>)[], (w, i) => StoredWriter.After(w, $"i{i}", i));

        Assert.Equal(StoredWriter.MaxKept, writers.Count);
        Assert.Equal("i39", writers[0].Instance);
    }

    [Fact]
    public async Task Stop_WritesEveryChangedState()
    {
        var store = Store();
        await store.StartAsync(CancellationToken.None);
        Observe(store, Caller, _model.Benign().Take(25).ToList());

        await store.StopAsync(CancellationToken.None);

        Assert.Equal(25, (await store.ReadAsync(Caller, CancellationToken.None))!.State!.QueryCount);
    }

    private ExtractionStateStore Store(int maxStates = 100, ExtractionDetectorOptions? detectorOptions = null, RecordingSecurityEvents? events = null)
    {
        // A flush interval no test waits for: every pass here is run by the test itself.
        var options = Options.Create(new ExtractionStoreOptions { TableName = _table.Name, MaxStates = maxStates, FlushInterval = TimeSpan.FromMinutes(10) });
        var alarms = new ExtractionAlarms(TimeProvider.System, new FakeLogger<ExtractionAlarms>(), events ?? new RecordingSecurityEvents());
        var store = new ExtractionStateStore(
            _table, new ExtractionDetector(detectorOptions ?? new ExtractionDetectorOptions()), alarms, options, TimeProvider.System, new FakeLogger<ExtractionStateStore>());
        _stores.Add(store);
        return store;
    }

    private ExtractionOutcome Observe(ExtractionStateStore store, ExtractionKey key, IReadOnlyList<float[]> queries, DateTimeOffset? now = null, ExtractionSubject? subject = null) =>
        store.Observe(
            key,
            subject ?? Subject,
            queries.SelectMany(static q => q).ToArray(),
            SyntheticCallers.Dimension,
            queries.Select(q => _model.Predict(q)).ToArray(),
            now ?? Start);
}
