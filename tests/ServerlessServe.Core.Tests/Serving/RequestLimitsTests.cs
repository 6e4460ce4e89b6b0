using Microsoft.Extensions.Options;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Policy;
using ServerlessServe.Core.Serving.Limits;

namespace ServerlessServe.Core.Tests.Serving;

public sealed class RequestLimitsTests
{
    [Fact]
    public void Rate_BurstThenRefusedWithRetryAfter_OtherCallerUnaffected()
    {
        using var limits = new RequestLimits(Options.Create(new LimitOptions()));
        var policy = new LimitsPolicy { RequestsPerSecond = 0.5, Burst = 3 };

        for (var i = 0; i < 3; i++)
        {
            Assert.Null(limits.TryAcquire("a", "m", policy, out var lease));
            lease!.Dispose();
        }

        var refused = limits.TryAcquire("a", "m", policy, out var none);
        Assert.Null(none);
        Assert.Equal(RefusalKind.RateLimited, refused!.Kind);
        Assert.True(refused.RetryAfter > TimeSpan.Zero);

        // Another caller, and the same caller on another model, have allowances of their own.
        Assert.Null(limits.TryAcquire("b", "m", policy, out var other));
        other!.Dispose();
        Assert.Null(limits.TryAcquire("a", "other-model", policy, out var elsewhere));
        elsewhere!.Dispose();
    }

    [Fact]
    public void BodyBytes_OverTheCallersShare429_OverTheInstances503_OtherCallersUnaffected()
    {
        using var limits = new RequestLimits(Options.Create(new LimitOptions { BodyBytesInFlight = 100, CallerBodyBytesInFlight = 60 }));

        var a1 = limits.ReserveBody("a");
        Assert.Null(a1.TryGrow(40));
        var a2 = limits.ReserveBody("a");
        var refused = a2.TryGrow(30);
        Assert.Equal(RefusalKind.RateLimited, refused!.Kind);
        Assert.Equal("too much request data in flight", refused.Message);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.RetryAfter);
        Assert.Equal(0, a2.Held);

        // Another caller has a share of its own, up to what the instance holds.
        var b1 = limits.ReserveBody("b");
        Assert.Null(b1.TryGrow(50));
        Assert.Equal(90, limits.BodyBytesInFlight);
        var c1 = limits.ReserveBody("c");
        var busy = c1.TryGrow(20);
        Assert.Equal(RefusalKind.Unavailable, busy!.Kind);
        Assert.Equal("server busy", busy.Message);
        Assert.Equal(90, limits.BodyBytesInFlight);

        // Each reservation gives back what it counted, once; a refused one counted nothing.
        a1.Dispose();
        a1.Dispose();
        a2.Dispose();
        b1.Dispose();
        Assert.Equal(0, limits.BodyBytesInFlight);
        Assert.Null(c1.TryGrow(60));
        Assert.Null(a2.TryGrow(10));
        Assert.Equal(60, limits.BodyBytesInFlight);
        c1.Dispose();
        Assert.Equal(0, limits.BodyBytesInFlight);
    }

    [Fact]
    public void BodyBytes_ARequestAloneGrowsWhateverItsSize()
    {
        using var limits = new RequestLimits(Options.Create(new LimitOptions { BodyBytesInFlight = 100, CallerBodyBytesInFlight = 60 }));

        // Past the caller's share and the instance's, grown read after read: alone, it is served (the body limits decide
        // its size).
        using var alone = limits.ReserveBody("a");
        for (var i = 0; i < 10; i++)
        {
            Assert.Null(alone.TryGrow(50));
        }

        Assert.Equal(500, alone.Held);
        using var other = limits.ReserveBody("a");
        Assert.NotNull(other.TryGrow(1));
        using var elsewhere = limits.ReserveBody("b");
        Assert.NotNull(elsewhere.TryGrow(1));
        alone.Dispose();
        Assert.Null(elsewhere.TryGrow(1));
    }

    [Fact]
    public async Task BodyBytes_ManyRequestsAtOnce_TheCallersShareHoldsAndEverythingIsGivenBack()
    {
        using var limits = new RequestLimits(Options.Create(new LimitOptions { BodyBytesInFlight = 1 << 30, CallerBodyBytesInFlight = 100 }));
        var most = 0L;
        var held = 0L;
        await Parallel.ForAsync(0, 20_000, async (i, _) =>
        {
            using var reservation = limits.ReserveBody("a");
            if (reservation.TryGrow(5) is null && reservation.TryGrow(5) is null)
            {
                var now = Interlocked.Add(ref held, 10);
                InterlockedMax(ref most, now);
                await Task.Yield();
                Interlocked.Add(ref held, -10);
            }
        });

        Assert.InRange(most, 10, 100);
        Assert.Equal(0, limits.BodyBytesInFlight);
        using var whole = limits.ReserveBody("a");
        Assert.Null(whole.TryGrow(100));
    }

    [Fact]
    public async Task CountedBody_CountsWhatArrived_ThenWhatReadingHoldsBesides_RefusalEndsTheRead()
    {
        using var limits = new RequestLimits(Options.Create(new LimitOptions { BodyBytesInFlight = 1 << 30, CallerBodyBytesInFlight = 1000 }));
        using var other = limits.ReserveBody("a");
        Assert.Null(other.TryGrow(100));

        // 300 bytes declared: counted as they arrive (100 a read), then three times the length besides at the end.
        using var reservation = limits.ReserveBody("a");
        var body = new CountedBodyStream(new MemoryStream(new byte[300]), reservation, 300, length => 2 * length);
        var buffer = new byte[100];
        Assert.Equal(100, await body.ReadAsync(buffer));
        Assert.Equal(100, reservation.Held);
        Assert.Equal(100, await body.ReadAsync(buffer));
        Assert.Equal(200, reservation.Held);
        Assert.Equal(100, await body.ReadAsync(buffer));
        Assert.Equal(900, reservation.Held);
        Assert.Equal(0, await body.ReadAsync(buffer));
        Assert.Equal(900, reservation.Held);

        // Undeclared: the end is the stream's; a count refused there (150 counted, 1,000 more past the share) ends the
        // read as a refusal.
        reservation.Dispose();
        using var second = limits.ReserveBody("a");
        var chunked = new CountedBodyStream(new MemoryStream(new byte[50]), second, null, length => 20 * length);
        Assert.Equal(50, await chunked.ReadAsync(buffer));
        var refused = await Assert.ThrowsAsync<RefusedException>(() => chunked.ReadAsync(buffer).AsTask());
        Assert.Equal("too much request data in flight", refused.Refusal.Message);
        Assert.Equal(50, second.Held);
    }

    [Theory]
    [InlineData(1000L, 100L, 1000L + 400L)]
    [InlineData(1000L, null, 1000L + 4000L)]
    [InlineData(16_777_216L, null, 16_777_216L + 8 * 4_194_304L)]
    [InlineData(1000L, 5000L, 1000L + 4000L)]
    public void V2Decoded_TheTensorsAndWhatJsonNumbersCanDecodeTo(long length, long? header, long expected) =>
        Assert.Equal(expected, CountedBodyStream.V2Decoded(length, header, 4_194_304));

    private static void InterlockedMax(ref long target, long value)
    {
        var seen = Interlocked.Read(ref target);
        while (value > seen && Interlocked.CompareExchange(ref target, value, seen) is var previous && previous != seen)
        {
            seen = previous;
        }
    }

    [Fact]
    public void Concurrency_PlacesHeldUntilDisposed()
    {
        using var limits = new RequestLimits(Options.Create(new LimitOptions()));
        var policy = new LimitsPolicy { Concurrency = 2 };

        Assert.Null(limits.TryAcquire("a", "m", policy, out var first));
        Assert.Null(limits.TryAcquire("a", "m", policy, out var second));
        Assert.Equal(RefusalKind.RateLimited, limits.TryAcquire("a", "m", policy, out _)!.Kind);

        first!.Dispose();
        Assert.Null(limits.TryAcquire("a", "m", policy, out var third));
        second!.Dispose();
        third!.Dispose();
    }

    [Fact]
    public void Global_ShedsPastTheLimitWith503AndRetryAfter()
    {
        using var limits = new RequestLimits(Options.Create(new LimitOptions { GlobalConcurrency = 1 }));

        Assert.Null(limits.TryAdmit(out var held));
        var shed = limits.TryAdmit(out var none);

        Assert.Null(none);
        Assert.Equal(RefusalKind.Unavailable, shed!.Kind);
        Assert.Equal(TimeSpan.FromSeconds(1), shed.RetryAfter);
        held!.Dispose();
        Assert.Null(limits.TryAdmit(out var again));
        again!.Dispose();
    }

    [Fact]
    public void NoPolicy_TheDefaultsApply()
    {
        using var limits = new RequestLimits(Options.Create(new LimitOptions { Burst = 1, RequestsPerSecond = 0.01 }));

        Assert.Null(limits.TryAcquire("a", "m", null, out var lease));
        lease!.Dispose();
        Assert.NotNull(limits.TryAcquire("a", "m", null, out _));
    }

    [Fact]
    public void CallerConcurrency_AcrossModels_PlacesHeldUntilDisposed_OtherCallerUnaffected()
    {
        using var limits = new RequestLimits(Options.Create(new LimitOptions { CallerConcurrency = 2 }));

        Assert.Null(limits.TryAcquire("a", "m1", null, out var first));
        Assert.Null(limits.TryAcquire("a", "m2", null, out var second));
        var refused = limits.TryAcquire("a", "m3", null, out var none);
        Assert.Null(none);
        Assert.Equal(RefusalKind.RateLimited, refused!.Kind);
        Assert.True(refused.RetryAfter > TimeSpan.Zero);
        Assert.Null(limits.TryAcquire("b", "m3", null, out var other));

        // The refused request gave back the place it had taken on m3: once a place is free, m3 is served.
        first!.Dispose();
        Assert.Null(limits.TryAcquire("a", "m3", new LimitsPolicy { Concurrency = 1 }, out var third));
        second!.Dispose();
        third!.Dispose();
        other!.Dispose();
    }

    [Fact]
    public void TakeMany_FromTheSameBucket_PastTheBurst413_PastWhatIsLeft429()
    {
        using var limits = new RequestLimits(Options.Create(new LimitOptions()));
        var policy = new LimitsPolicy { RequestsPerSecond = 0.01, Burst = 3 };

        Assert.Equal(RefusalKind.TooLarge, limits.TryTake("a", "m", policy, 4)!.Kind);
        Assert.Equal(RefusalKind.TooLarge, limits.TooManyAtOnce(policy, 4)!.Kind);
        Assert.Null(limits.TooManyAtOnce(policy, 3));
        Assert.True(limits.MayTake("a", "m", policy, 3));
        Assert.Null(limits.TryTake("a", "m", policy, 2));
        // A look takes nothing: a job's submission looks before it asks the task hub for the caller's running jobs.
        Assert.False(limits.MayTake("a", "m", policy, 2));
        Assert.True(limits.MayTake("a", "m", policy, 1));
        Assert.True(limits.MayTake("a", "m", policy, 1));
        // Too few now: refused with when enough will be back (one missing at 0.01 per second: 100 s), taking nothing.
        var few = limits.TooFewNow("a", "m", policy, 2);
        Assert.Equal((RefusalKind.RateLimited, TimeSpan.FromSeconds(100)), (few.Kind, few.RetryAfter!.Value));
        Assert.True(limits.MayTake("a", "m", policy, 1));
        var over = limits.TryTake("a", "m", policy, 2);
        Assert.Equal(RefusalKind.RateLimited, over!.Kind);
        Assert.True(over.RetryAfter > TimeSpan.Zero);

        // What is left is one request, for the sync path as well.
        Assert.Null(limits.TryAcquire("a", "m", policy, out var last));
        last!.Dispose();
        Assert.NotNull(limits.TryAcquire("a", "m", policy, out _));
        Assert.Null(limits.TryTake("b", "m", policy, 3));
    }

    [Fact]
    public void Misses_CheckTakesNothing_ChargedPastTheBurstRefused429_OtherCallerUnaffected()
    {
        using var limits = new RequestLimits(Options.Create(new LimitOptions { MissesPerSecond = 0.01, MissBurst = 2 }));

        // Checking spends nothing: any number of checks with no miss charged.
        for (var i = 0; i < 5; i++)
        {
            Assert.Null(Check(limits, "a"));
        }

        limits.ChargeMiss("a");
        Assert.Null(Check(limits, "a"));
        limits.ChargeMiss("a");
        var refused = Check(limits, "a");
        Assert.Equal(RefusalKind.RateLimited, refused!.Kind);
        Assert.Equal("too many requests", refused.Message);
        Assert.Equal(TimeSpan.FromSeconds(100), refused.RetryAfter);

        // Charging past the end changes nothing and throws nothing; another caller has misses of its own, and the model
        // limits of the caller out of misses are untouched.
        limits.ChargeMiss("a");
        Assert.NotNull(Check(limits, "a"));
        Assert.Null(Check(limits, "b"));
        Assert.Null(limits.TryAcquire("a", "m", null, out var lease));
        lease!.Dispose();
    }

    [Fact]
    public async Task Misses_AFractionOfATokenBack_StillRefused()
    {
        // The bucket's timer adds what the time since its last tick is worth: a token and a small fraction, as a tick is
        // never exactly on time. A token bucket answers a request for no token with success as soon as any fraction is
        // there, so a check made that way lets a caller that spends every whole token through for good. Spend every
        // whole token, check, repeat over several ticks: the check must refuse (a tick between the two may rarely add a
        // whole token, hence the margin).
        using var limits = new RequestLimits(Options.Create(new LimitOptions { MissesPerSecond = 10, MissBurst = 2 }));
        var refused = 0;
        const int Checks = 40;
        for (var i = 0; i < Checks; i++)
        {
            for (var spend = 0; spend < 5; spend++)
            {
                limits.ChargeMiss("a");
            }

            if (Check(limits, "a") is not null)
            {
                refused++;
            }

            await Task.Delay(10);
        }

        Assert.True(refused >= Checks - 4, $"refused {refused} of {Checks} checks with no whole token left");
    }

    [Fact]
    public void ReserveMiss_UndecidedRequestsHoldAMissEach_AHitGivesItBack_AMissSpendsIt()
    {
        using var limits = new RequestLimits(Options.Create(new LimitOptions { MissesPerSecond = 0.01, MissBurst = 2 }));
        Assert.Null(limits.ReserveMiss("a", out var first));
        Assert.Null(limits.ReserveMiss("a", out var second));

        // Two undecided requests hold both misses: a third is refused until one of them is decided, whatever it names.
        var refused = limits.ReserveMiss("a", out var none);
        Assert.Equal((RefusalKind.RateLimited, "too many requests"), (refused!.Kind, refused.Message));
        Assert.Null(none);
        Assert.Null(limits.ReserveMiss("b", out var other));
        other!.Settle(miss: false);

        first!.Settle(miss: false); // it found its model: nothing spent
        first.Settle(miss: true); // settled once; this does nothing
        Assert.Null(limits.ReserveMiss("a", out var third));
        second!.Settle(miss: true); // a miss: spends one
        third!.Settle(miss: true); // spends the other
        Assert.NotNull(limits.ReserveMiss("a", out _));
        Assert.NotNull(Check(limits, "a"));
        Assert.Null(Check(limits, "b"));
    }

    [Fact]
    public void ReserveMiss_RequestsAtOnce_NoMoreUndecidedThanMissesLeft()
    {
        using var limits = new RequestLimits(Options.Create(new LimitOptions { MissesPerSecond = 0.01, MissBurst = 5 }));
        using var start = new Barrier(16);
        var reservations = new RequestLimits.MissReservation?[16];
        var threads = Enumerable.Range(0, 16).Select(i => new Thread(() =>
        {
            start.SignalAndWait();
            reservations[i] = limits.ReserveMiss("a", out var reservation) is null ? reservation : null;
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        var held = reservations.Where(r => r is not null).ToList();
        Assert.Equal(5, held.Count);

        // All five were misses: the caller is out, and the next request is refused before it names anything.
        held.ForEach(r => r!.Settle(miss: true));
        Assert.NotNull(limits.ReserveMiss("a", out _));
    }

    // A request's check of its caller's misses that turns out not to be one: what the misses stage and authorize do.
    private static Refusal? Check(RequestLimits limits, string caller)
    {
        var refusal = limits.ReserveMiss(caller, out var reservation);
        reservation?.Settle(miss: false);
        return refusal;
    }
}
