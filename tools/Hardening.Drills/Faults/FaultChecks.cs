using System.Globalization;

namespace Hardening.Drills.Faults;

/// <summary>
/// The faults drill's checkers over what the clients recorded: each returns the violations it found (empty = held)
/// and adds its figures. Pure functions of the recording, so a test can plant a violation and see it reported.
/// </summary>
internal static class FaultChecks
{
    /// <summary>Request kinds that need PostgreSQL.</summary>
    public static readonly HashSet<string> DatabaseKinds = new(StringComparer.Ordinal) { "login", "create", "transition", "read", "list", "upload" };

    /// <summary>Request kinds that write.</summary>
    public static readonly HashSet<string> WriteKinds = new(StringComparer.Ordinal) { "create", "transition", "upload" };

    /// <summary>No refresh token accepted twice: at most one 200 per token over the whole drill.</summary>
    public static List<string> RefreshSingleUse(IEnumerable<Outcome> outcomes, IDictionary<string, object?> figures)
    {
        var refreshes = outcomes.Where(o => o.Kind == "refresh" && o.Key is not null).ToList();
        var byToken = refreshes.GroupBy(o => o.Key!).ToList();
        var violations = byToken.Where(g => g.Count(o => o.Succeeded) > 1)
            .Select(g => $"refresh token {g.Key} was accepted {g.Count(o => o.Succeeded)} times (statuses {string.Join(", ", g.Select(o => o.Status))})")
            .ToList();
        figures["refreshTokens"] = byToken.Count;
        figures["refreshAttempts"] = refreshes.Count;
        figures["refreshAccepted"] = refreshes.Count(o => o.Succeeded);
        figures["refreshByStatus"] = Stats.ByStatus(refreshes);
        return violations;
    }

    /// <summary>
    /// Fail closed while the store is down: a request of <paramref name="kinds"/> that ran wholly inside the window was
    /// refused with 429 or 503; an acceptance (2xx), any other status, no answer or a hang is a violation.
    /// </summary>
    public static List<string> FailClosed(IEnumerable<Outcome> outcomes, FaultWindow window, IReadOnlyCollection<string> kinds, IDictionary<string, object?> figures)
    {
        var inside = outcomes.Where(o => kinds.Contains(o.Kind) && window.Contains(o)).ToList();
        figures["failClosedChecked"] = inside.Count;
        figures["failClosedByStatus"] = Stats.ByStatus(inside);
        return inside.Where(o => o.Status is not (429 or 503))
            .Select(o => o.Succeeded
                ? $"{window.Name}: {o.Kind} accepted ({o.Status}) at {Ms(o.StartMs)}-{Ms(o.EndMs)} while the store was down ({Ms(window.DownMs)}-{Ms(window.UpMs)}): the throttle or replay guard failed open"
                : $"{window.Name}: {o.Kind} answered {Describe(o.Status)} at {Ms(o.StartMs)} while the store was down; a refusal must be 429 or 503")
            .ToList();
    }

    /// <summary>
    /// Fail fast while the database is down: every database request in flight during the window got 503 (or a 4xx that
    /// needs no database) within <paramref name="hangLimitMs"/>, or succeeded; a 500 (or other 5xx), no HTTP answer or a hang is a violation.
    /// Figures: statuses and the time to fail (p50, p95, max).
    /// </summary>
    public static List<string> FailFast(IEnumerable<Outcome> outcomes, FaultWindow window, double hangLimitMs, IDictionary<string, object?> figures)
    {
        // Every request that was in flight at some moment of the outage, also one that started just before the stop
        // (with few writers, all of them can be in such requests for the whole of a short outage, and none starts
        // inside it: a quick drill once saw no request at all "during" a 2 s outage).
        var inside = outcomes.Where(o => DatabaseKinds.Contains(o.Kind) && o.StartMs <= window.UpMs && o.EndMs >= window.DownMs).ToList();
        var failed = inside.Where(o => !o.Succeeded).ToList();
        figures["requestsDuringOutage"] = inside.Count;
        figures["failedDuringOutage"] = failed.Count;
        // Statuses of the requests started inside the window (one in flight at the stop may still succeed).
        figures["byStatusDuringOutage"] = Stats.ByStatus(inside.Where(o => o.StartMs >= window.DownMs));
        var times = failed.Where(o => o.Status > 0).Select(o => o.ElapsedMs).ToList();
        figures["timeToFailMs"] = new Dictionary<string, double> { ["p50"] = Stats.Percentile(times, 50), ["p95"] = Stats.Percentile(times, 95), ["max"] = Stats.Percentile(times, 100) };
        var violations = new List<string>();
        foreach (var o in inside)
        {
            if (o.Status == -1 || o.ElapsedMs > hangLimitMs)
            {
                violations.Add($"{window.Name}: {o.Kind} hung {o.ElapsedMs:0} ms (started {Ms(o.StartMs)}) while the database was down; the limit is {hangLimitMs:0} ms");
            }
            else if (o.Status == 0 || (o.Status >= 500 && o.Status != 503))
            {
                violations.Add($"{window.Name}: {o.Kind} answered {Describe(o.Status)} at {Ms(o.StartMs)} while the database was down; expected 503");
            }
        }

        return violations;
    }

    /// <summary>
    /// Recovery after the component is started again: the time from the start to the first success of a database
    /// write, and to the last failure (5xx, 429, no answer). No success at all after the restart is a violation.
    /// </summary>
    public static List<string> Recovery(IEnumerable<Outcome> outcomes, FaultWindow window, IReadOnlyCollection<string> kinds, IDictionary<string, object?> figures)
    {
        var after = outcomes.Where(o => kinds.Contains(o.Kind) && o.StartMs >= window.UpMs && o.StartMs < window.EndMs).OrderBy(o => o.EndMs).ToList();
        var firstSuccess = after.FirstOrDefault(o => o.Succeeded);
        var failures = after.Where(o => !o.Succeeded && (o.Status is <= 0 or >= 500 or 429)).ToList();
        figures["restartToReadyMs"] = Math.Round(window.ReadyMs - window.UpMs);
        figures["recoveryMs"] = firstSuccess is null ? null : Math.Round(firstSuccess.EndMs - window.UpMs);
        figures["lastFailureAfterRestartMs"] = failures.Count == 0 ? 0 : Math.Round(failures[^1].EndMs - window.UpMs);
        figures["failuresAfterRestart"] = Stats.ByStatus(failures);
        return firstSuccess is null && after.Count > 0
            ? [$"{window.Name}: no request succeeded after the restart ({after.Count} tried): the pool did not recover"]
            : [];
    }

    /// <summary>
    /// An instance killed behind HAProxy: the failed requests (no answer, 502, 503, 504) from the kill on, and the
    /// window during which they happened. A request that started more than <paramref name="routeAroundLimitMs"/> after
    /// the kill and still failed while the instance was down is a violation (HAProxy kept sending to it).
    /// </summary>
    public static List<string> RouteAround(IEnumerable<Outcome> outcomes, FaultWindow window, double routeAroundLimitMs, IDictionary<string, object?> figures)
    {
        var from = outcomes.Where(o => o.Kind != "sse" && o.EndMs >= window.DownMs).ToList();
        var failed = from.Where(o => o.Status is <= 0 or 502 or 503 or 504 && o.StartMs <= window.ReadyMs).OrderBy(o => o.StartMs).ToList();
        figures["requestsWhileDown"] = from.Count(o => o.StartMs <= window.UpMs);
        figures["failedRequests"] = failed.Count;
        figures["failedByStatus"] = Stats.ByStatus(failed);
        figures["failureWindowMs"] = failed.Count == 0 ? 0 : Math.Round(failed[^1].EndMs - window.DownMs);
        return failed.Where(o => o.StartMs - window.DownMs > routeAroundLimitMs && o.StartMs < window.UpMs)
            .Select(o => $"{window.Name}: {o.Kind} failed ({Describe(o.Status)}) {o.StartMs - window.DownMs:0} ms after the kill; HAProxy should have routed around the dead instance within {routeAroundLimitMs:0} ms")
            .ToList();
    }

    /// <summary>
    /// SSE delivery of every watcher against the database's outbox of its tenant (the oracle): within an epoch the
    /// ids go up by one (a gap is a loss, a repeat a duplicate); an epoch changes only through an explicit reset; and
    /// the events received are exactly the tenant's outbox rows, each once (missing = lost, extra = duplicated or
    /// another tenant's). With <paramref name="resetsAllowed"/> false a reset is itself a violation (the store kept
    /// its data, so a client should never have to resync); with it true (a store that lost its data) events a reset
    /// skipped may be missing, up to the number it skipped.
    /// </summary>
    public static List<string> SseDelivery(IReadOnlyList<WatcherRecord> watchers, IReadOnlyDictionary<Guid, IReadOnlyList<(string Type, string Data)>> outbox, bool resetsAllowed, IDictionary<string, object?> figures) =>
        SseDelivery(watchers, outbox, outbox, resetsAllowed, figures);

    /// <summary>
    /// As above, with the outbox read twice: <paramref name="outbox"/> once it had drained (every row in it was published
    /// before the watchers stopped, so each must have arrived) and <paramref name="finalOutbox"/> after the watchers
    /// stopped (anything a watcher received must be in it: a write cancelled when the load stopped can still commit on
    /// the server after the first read, and its event then arrives too).
    /// </summary>
    public static List<string> SseDelivery(IReadOnlyList<WatcherRecord> watchers, IReadOnlyDictionary<Guid, IReadOnlyList<(string Type, string Data)>> outbox, IReadOnlyDictionary<Guid, IReadOnlyList<(string Type, string Data)>> finalOutbox, bool resetsAllowed, IDictionary<string, object?> figures)
    {
        var violations = new List<string>();
        long delivered = 0, resets = 0, reconnects = 0;
        foreach (var w in watchers)
        {
            reconnects += Math.Max(0, w.Connections - 1);
            if (w.Frames.Count == 0)
            {
                violations.Add($"SSE watcher {w.Name}: never received its stream's head (never connected)");
                continue;
            }

            string? epoch = null;
            long last = 0;
            long skippedByResets = 0;
            foreach (var f in w.Frames)
            {
                if (f.IsReset)
                {
                    resets++;
                    if (!resetsAllowed)
                    {
                        violations.Add($"SSE watcher {w.Name}: reset ({f.Data}) at {f.Epoch}-{f.Sequence}: the client had to resync although the store kept its data");
                    }

                    skippedByResets += f.Epoch == epoch ? Math.Max(0, f.Sequence - last) : f.Sequence;
                    (epoch, last) = (f.Epoch, f.Sequence);
                    continue;
                }

                if (epoch is null)
                {
                    // The first frame: the head (id only) for a new connection.
                    (epoch, last) = (f.Epoch, f.Sequence);
                    delivered += f.Type is null ? 0 : 1;
                    continue;
                }

                if (f.Epoch != epoch)
                {
                    violations.Add($"SSE watcher {w.Name}: epoch changed from {epoch} to {f.Epoch} without a reset");
                    (epoch, last) = (f.Epoch, f.Sequence);
                    continue;
                }

                if (f.Type is null)
                {
                    // An id-only frame (the head, for a new connection): it must not move backwards.
                    if (f.Sequence < last)
                    {
                        violations.Add($"SSE watcher {w.Name}: head {f.Epoch}-{f.Sequence} behind the last id {last}");
                    }

                    last = Math.Max(last, f.Sequence);
                    continue;
                }

                delivered++;
                if (f.Sequence <= last)
                {
                    violations.Add($"SSE watcher {w.Name}: duplicate id {f.Epoch}-{f.Sequence} (last was {last})");
                }
                else if (f.Sequence > last + 1)
                {
                    violations.Add($"SSE watcher {w.Name}: lost {f.Sequence - last - 1} event(s): ids {last + 1}-{f.Sequence - 1} of epoch {epoch} never arrived");
                }

                last = Math.Max(last, f.Sequence);
            }

            var expected = outbox.TryGetValue(w.Tenant, out var rows) ? rows : [];
            var want = Multiset(expected);
            var got = Multiset(w.Frames.Where(f => f.Type is not null && !f.IsReset).Select(f => (f.Type!, f.Data)));
            long missing = 0;
            foreach (var (key, count) in want)
            {
                var have = got.GetValueOrDefault(key);
                if (have < count)
                {
                    missing += count - have;
                }
            }

            var allowed = Multiset(finalOutbox.TryGetValue(w.Tenant, out var finalRows) ? finalRows : []);
            foreach (var (key, count) in got)
            {
                var wanted = allowed.GetValueOrDefault(key);
                if (count > wanted)
                {
                    var foreign = wanted == 0 && finalOutbox.Any(t => t.Key != w.Tenant && t.Value.Contains(key));
                    violations.Add(foreign
                        ? $"SSE watcher {w.Name}: received an event of another tenant ({key.Type} {Short(key.Data)})"
                        : wanted == 0
                            ? $"SSE watcher {w.Name}: received an event that is in no outbox ({key.Type} {Short(key.Data)})"
                            : $"SSE watcher {w.Name}: received {key.Type} {Short(key.Data)} {count} times; the outbox has it {wanted} time(s)");
                }
            }

            if (missing > 0 && (!resetsAllowed || missing > skippedByResets))
            {
                violations.Add($"SSE watcher {w.Name}: {missing} of its tenant's {expected.Count} outbox event(s) never arrived" + (resetsAllowed ? $" (resets skipped {skippedByResets})" : ""));
            }
        }

        figures["sseWatchers"] = watchers.Count;
        figures["sseEventsDelivered"] = delivered;
        figures["sseOutboxEvents"] = outbox.Where(t => watchers.Any(w => w.Tenant == t.Key)).Sum(t => t.Value.Count);
        figures["sseReconnects"] = reconnects;
        figures["sseResets"] = resets;
        return violations;
    }

    private static Dictionary<(string Type, string Data), int> Multiset(IEnumerable<(string Type, string Data)> items)
    {
        var d = new Dictionary<(string, string), int>();
        foreach (var i in items)
        {
            d[i] = d.GetValueOrDefault(i) + 1;
        }

        return d;
    }

    private static string Short(string s) => s.Length <= 80 ? s : s[..80] + "...";

    internal static string Ms(double ms) => (ms / 1000).ToString("0.000", CultureInfo.InvariantCulture) + " s";

    internal static string Describe(int status) => status switch
    {
        0 => "no HTTP answer",
        -1 => "nothing (hang)",
        _ => status.ToString(CultureInfo.InvariantCulture),
    };
}

/// <summary>One SSE frame a watcher received: an event, an id-only head frame (Type null) or a reset.</summary>
internal sealed record SseFrame(string Epoch, long Sequence, string? Type, string Data, double AtMs)
{
    public bool IsReset => Type == "reset";
}

/// <summary>What one watcher saw, for the checker.</summary>
internal sealed record WatcherRecord(string Name, Guid Tenant, IReadOnlyList<SseFrame> Frames, int Connections);
