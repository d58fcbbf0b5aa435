namespace Hardening.Sse.Tests.Client;

/// <summary>
/// The shipped ES module (taken from the assembly's embedded resource, as browsers get it) run by node against a fake
/// EventSource: duplicates dropped, gaps/epoch changes/resets reported for a re-sync, Last-Event-ID resume wired.
/// </summary>
public sealed class BrowserClientTests
{
    private const string Harness = """
        import assert from "node:assert/strict";
        import { connect, createTracker, parseId } from "./hardening-sse.mjs";

        // parseId
        assert.deepEqual(parseId("ab12-7"), { epoch: "ab12", seq: 7n });
        for (const bad of [null, "", "x", "ab-", "-1", "a b-1", "ab-1x", "ab-1\n"]) assert.equal(parseId(bad), null, String(bad));

        // duplicates are dropped, order kept
        let seen = [], resyncs = [];
        let t = createTracker({ onEvent: (type, data, id) => seen.push(id), onResync: (r) => resyncs.push(r) });
        for (const id of ["e1-1", "e1-2", "e1-2", "e1-1", "e1-3"]) t.handle("changed", id, "{}");
        assert.deepEqual(seen, ["e1-1", "e1-2", "e1-3"]);
        assert.deepEqual(resyncs, []);
        assert.equal(t.lastEventId, "e1-3");

        // a gap asks for a re-sync (and still delivers the event)
        assert.equal(t.handle("changed", "e1-5", "{}"), "resync");
        assert.equal(resyncs.at(-1).reason, "gap");
        assert.equal(resyncs.at(-1).expected, "e1-4");
        assert.deepEqual(seen.at(-1), "e1-5");

        // a reset from the server: re-sync with its reason, then continue after its id
        assert.equal(t.handle("reset", "e1-40", '{"reason":"retention","epoch":"e1","sequence":40}'), "reset");
        assert.equal(resyncs.at(-1).reason, "retention");
        assert.equal(t.handle("changed", "e1-41", "{}"), "event");
        assert.equal(t.handle("changed", "e1-41", "{}"), "duplicate");

        // an epoch change is a re-sync too
        assert.equal(t.handle("changed", "e2-1", "{}"), "resync");
        assert.equal(resyncs.at(-1).reason, "epoch");
        assert.equal(resyncs.length, 3);

        // resuming from a known id: the first event after it is no gap
        resyncs = [];
        t = createTracker({ lastEventId: "e9-10", onResync: (r) => resyncs.push(r) });
        assert.equal(t.handle("changed", "e9-11", "{}"), "event");
        assert.equal(t.handle("changed", "e9-10", "{}"), "duplicate");
        assert.deepEqual(resyncs, []);

        // connect() wraps an EventSource
        class FakeEventSource {
          static last;
          constructor(url, init) { this.url = url; this.init = init; this.listeners = {}; this.readyState = 1; FakeEventSource.last = this; }
          addEventListener(type, fn) { (this.listeners[type] ??= []).push(fn); }
          close() { this.readyState = 2; }
          emit(type, lastEventId, data) { for (const fn of this.listeners[type] ?? []) fn({ type, lastEventId, data }); }
        }
        const got = [], why = [], opens = [];
        const sub = connect("/events/tenant-1/apps", {
          EventSource: FakeEventSource, eventTypes: ["status-changed"], lastEventId: "e1-3", withCredentials: true,
          onEvent: (type, data, id) => got.push([type, id, data]), onResync: (r) => why.push(r.reason),
          onOpen: (o) => opens.push(o.first),
        });
        const es = FakeEventSource.last;
        assert.deepEqual(opens, []);
        es.emit("open");
        assert.deepEqual(opens, [true]);
        es.emit("open"); // the browser reconnected
        assert.deepEqual(opens, [true, false]);
        assert.equal(new URL(es.url).searchParams.get("lastEventId"), "e1-3");
        assert.equal(new URL(es.url).pathname, "/events/tenant-1/apps");
        assert.equal(es.init.withCredentials, true);
        es.emit("status-changed", "e1-4", '{"s":"hired"}');
        es.emit("status-changed", "e1-4", '{"s":"hired"}'); // the browser reconnected and the server replayed it
        es.emit("message", "e1-5", "plain");
        es.emit("reset", "e1-9", '{"reason":"epoch"}');
        assert.deepEqual(got, [["status-changed", "e1-4", '{"s":"hired"}'], ["message", "e1-5", "plain"]]);
        assert.deepEqual(why, ["epoch"]);
        assert.equal(sub.lastEventId, "e1-9");
        sub.close();
        assert.equal(es.readyState, 2);
        console.log("ok");
        """;

    [Fact]
    public async Task Module_drops_duplicates_reports_gaps_epochs_and_resets_and_resumes_from_an_id()
    {
        var node = new[] { "/usr/bin/node", "/usr/local/bin/node" }.FirstOrDefault(File.Exists);
        Assert.True(node is not null, "node is required for the browser-module test (apt-get install nodejs).");
        var dir = Directory.CreateTempSubdirectory("hardening-sse-js-");
        try
        {
            await File.WriteAllBytesAsync(Path.Combine(dir.FullName, "hardening-sse.mjs"), SseClientScript.Bytes.ToArray());
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, "harness.mjs"), Harness);
            var result = await ProcessRunner.RunAsync(node, ["harness.mjs"], TimeSpan.FromSeconds(60), dir.FullName);
            Assert.True(result.ExitCode == 0, $"node failed:\n{result.StdOut}\n{result.StdErr}");
            Assert.Equal("ok", result.StdOut.Trim());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
