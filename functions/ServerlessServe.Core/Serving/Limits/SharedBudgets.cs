using System.Collections.Concurrent;
using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Core.Serving.Limits;

/// <summary>
/// Daily budgets of tensor elements per caller and model, shared by every gateway instance through one table (Azure
/// Table storage; Azurite locally). Each instance leases slices of a budget: a slice is reserved in the table (the
/// day's <c>Used</c> count grows by it, with optimistic concurrency) before any of it is spent, and requests are charged
/// against the local slice in memory. When a slice runs low the next one is reserved in the background, so a request
/// waits for storage only when its instance holds nothing for that caller yet (its first request of the day there) or
/// its slice is spent. On stop, what is left of each slice is given back.
/// </summary>
/// <remarks>
/// The total served never exceeds the budget: every element served was reserved first. The cost is the other way: a
/// slice held by an instance that dies is lost for the day, so a caller can be refused up to one slice per crashed
/// instance (a tenth of the budget by default) early. Days are UTC.
/// </remarks>
public sealed class SharedBudgets
{
    /// <summary>A slice is this share of the budget (at least the request that asks for it).</summary>
    public const double SliceFraction = 0.1;

    private readonly TableClient _table;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<(string Caller, string Model, string Day), Account> _accounts = new();
    private readonly CreateOnce _created;
    private string _day = string.Empty;

    public SharedBudgets(TableClient table, TimeProvider time, ILogger<SharedBudgets> logger)
    {
        _table = table ?? throw new ArgumentNullException(nameof(table));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _created = new CreateOnce(() => _table.CreateIfNotExistsAsync(CancellationToken.None));
    }

    public string TableName => _table.Name;

    /// <summary>The caller, model and day accounts held (today's only, once a charge has seen the day change).</summary>
    public int Accounts => _accounts.Count;

    /// <summary>
    /// Creates the table when missing. Also done before a reservation until it has succeeded once, so a table that
    /// could not be created at start (storage not reachable yet) is created by the first charge that reaches storage,
    /// not left missing until the next start.
    /// </summary>
    public Task CreateIfNotExistsAsync(CancellationToken cancellationToken) => _created.EnsureAsync(cancellationToken);

    /// <summary>
    /// Charges <paramref name="elements"/> to <paramref name="caller"/>'s budget of <paramref name="budget"/> elements
    /// a day on <paramref name="model"/>: null when served, else 429 with <c>Retry-After</c> (the next UTC day when
    /// the shared budget is spent), or 413 for a request larger than the whole budget.
    /// </summary>
    public async ValueTask<Refusal?> ChargeAsync(string caller, string model, long budget, long elements, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(budget, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(elements);
        var now = _time.GetUtcNow();
        var day = now.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        if (!string.Equals(Volatile.Read(ref _day), day, StringComparison.Ordinal))
        {
            ForgetPastDays(day);
        }

        var account = _accounts.GetOrAdd((caller, model, day), static _ => new Account());
        if (elements > budget)
        {
            // More than the whole day's budget: no day will serve it, so not 429 "until tomorrow" (a client that honours
            // Retry-After would send it again every day), but too large, as a burst over the rate limit is.
            return Refusal.TooLarge("the request holds more tensor elements than the caller's daily budget on this model");
        }

        for (var attempt = 0; attempt < 2; attempt++)
        {
            lock (account)
            {
                if (account.Budget != budget)
                {
                    // The model's budget changed (a version with other limits serves): what this instance held was
                    // judged against the old one. Raised: no longer spent, and its slice is kept. Lowered: its slice is
                    // dropped (it stays counted as used today), so what is served from here on is reserved against the
                    // new budget.
                    if (budget < account.Budget)
                    {
                        account.Local = 0;
                    }

                    account.Budget = budget;
                    account.Exhausted = false;
                }

                if (account.Local >= elements)
                {
                    account.Local -= elements;
                    if (!account.Exhausted && account.Refill is null && account.Local < budget * SliceFraction / 2)
                    {
                        account.Refill = RefillInBackgroundAsync(account, caller, model, day, budget, 0);
                    }

                    return null;
                }

                if (account.Exhausted)
                {
                    return Spent(now);
                }
            }

            // Nothing (or not enough) here: reserve now, on the request path. A store that cannot be reached is 503, as
            // for every other store on the request path: never served unmetered, and never a 500.
            try
            {
                await ReserveAsync(account, caller, model, day, budget, elements, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (StoreFailures.IsUnreachable(ex, cancellationToken))
            {
                Log.BudgetStoreUnavailable(_logger, _table.Name, ex);
                return Refusal.Unavailable("service unavailable") with { Reason = "budget_store_unavailable", RetryAfter = TimeSpan.FromSeconds(1) };
            }
        }

        return Spent(now);
    }

    // A day's accounts are of no use once it is over (the next day's budget starts afresh, and what a past day's slice
    // held back is counted as used for that day only): dropped, so the accounts held stay one day's callers.
    private void ForgetPastDays(string today)
    {
        Volatile.Write(ref _day, today);
        foreach (var key in _accounts.Keys)
        {
            if (!string.Equals(key.Day, today, StringComparison.Ordinal))
            {
                _accounts.TryRemove(key, out _);
            }
        }
    }

    /// <summary>Gives back what is left of every slice this instance holds (on stop).</summary>
    public async Task ReturnAllAsync(CancellationToken cancellationToken)
    {
        await SettledAsync().ConfigureAwait(false);
        foreach (var ((caller, model, day), account) in _accounts)
        {
            long left;
            lock (account)
            {
                left = account.Local;
                account.Local = 0;
            }

            if (left > 0)
            {
                try
                {
                    await AddUsedAsync(model, caller, day, -left, long.MaxValue, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (StoreFailures.IsUnreachable(ex, cancellationToken))
                {
                    // Each account on its own: one that cannot be given back does not keep the others'.
                    Log.BudgetReturnFailed(_logger, _table.Name, ex);
                }
            }
        }
    }

    /// <summary>Completes when no background reservation is running (for tests and an orderly stop).</summary>
    public async Task SettledAsync()
    {
        foreach (var account in _accounts.Values)
        {
            Task? refill;
            lock (account)
            {
                refill = account.Refill;
            }

            if (refill is not null)
            {
                await refill.ConfigureAwait(false);
            }
        }
    }

    /// <summary>Elements of the day's budget used so far, all instances together (reserved slices included).</summary>
    public async Task<long> UsedAsync(string caller, string model, DateTimeOffset day, CancellationToken cancellationToken)
    {
        var entity = await _table.GetEntityIfExistsAsync<TableEntity>(model, RowKey(caller, day.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture)), cancellationToken: cancellationToken).ConfigureAwait(false);
        return entity.HasValue ? entity.Value!.GetInt64("Used") ?? 0 : 0;
    }

    private async Task RefillInBackgroundAsync(Account account, string caller, string model, string day, long budget, long atLeast)
    {
        try
        {
            await Task.Yield();
            await ReserveAsync(account, caller, model, day, budget, atLeast, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (StoreFailures.IsUnreachable(ex, CancellationToken.None))
        {
            Log.BudgetReserveFailed(_logger, _table.Name, ex);
        }
        finally
        {
            lock (account)
            {
                account.Refill = null;
            }
        }
    }

    private async Task ReserveAsync(Account account, string caller, string model, string day, long budget, long atLeast, CancellationToken cancellationToken)
    {
        var slice = Math.Max(atLeast, (long)Math.Ceiling(budget * SliceFraction));
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var granted = await AddUsedAsync(model, caller, day, slice, budget, cancellationToken).ConfigureAwait(false);
        lock (account)
        {
            account.Local += granted;
            if (granted < Math.Max(atLeast, 1))
            {
                account.Exhausted = true;
            }
        }
    }

    // Adds up to delta to the day's Used without passing the budget (a negative delta gives back); returns what was added.
    private async Task<long> AddUsedAsync(string model, string caller, string day, long delta, long budget, CancellationToken cancellationToken)
    {
        var rowKey = RowKey(caller, day);
        while (true)
        {
            var existing = await _table.GetEntityIfExistsAsync<TableEntity>(model, rowKey, cancellationToken: cancellationToken).ConfigureAwait(false);
            var used = existing.HasValue ? existing.Value!.GetInt64("Used") ?? 0 : 0;
            var grant = delta >= 0 ? Math.Min(delta, Math.Max(0, budget - used)) : Math.Max(delta, -used);
            if (grant == 0)
            {
                return 0;
            }

            var entity = new TableEntity(model, rowKey) { ["Used"] = used + grant };
            try
            {
                if (existing.HasValue)
                {
                    await _table.UpdateEntityAsync(entity, existing.Value!.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await _table.AddEntityAsync(entity, cancellationToken).ConfigureAwait(false);
                }

                return grant;
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412)
            {
                // Another instance reserved meanwhile: read again.
            }
        }
    }

    private static string RowKey(string caller, string day) => caller + "~" + day;

    private static Refusal Spent(DateTimeOffset now) =>
        Refusal.RateLimited("daily budget spent") with { RetryAfter = now.UtcDateTime.Date.AddDays(1) - now.UtcDateTime };

    private sealed class Account
    {
        /// <summary>The budget the account was last charged under.</summary>
        public long Budget { get; set; }

        public long Local { get; set; }

        public bool Exhausted { get; set; }

        public Task? Refill { get; set; }
    }
}
