// Hardening.Sse browser client (ES module). Served by app.MapServerSentEventsClient("/hardening-sse.js").
//
//   import { connect } from "/hardening-sse.js";
//   const sub = connect("/events/tenant-42/applications", {
//     eventTypes: ["status-changed"],
//     onEvent: (type, data, id) => applyChange(type, JSON.parse(data)),
//     onResync: (why) => reloadEverything(),          // reset from the server, or a gap/epoch change seen here
//     onOpen: ({ first }) => first && loadState(),    // load the page's state once the stream's start is fixed
//   });
//   ...
//   sub.close();
//
// Event ids are "<epoch>-<sequence>". The browser resends the last id on reconnect (Last-Event-ID) and the server
// replays what was missed. This wrapper is the second line of defence: it drops duplicates, and when it sees a gap,
// an epoch change or a "reset" event it calls onResync so the page re-fetches its state.

/** Parses "<epoch>-<sequence>"; null when malformed. */
export function parseId(id) {
  if (typeof id !== "string") return null;
  const m = /^([0-9A-Za-z]{1,32})-([0-9]{1,19})$/.exec(id);
  return m ? { epoch: m[1], seq: BigInt(m[2]) } : null;
}

/**
 * The ordering logic without EventSource: feed it (type, id, data) in arrival order.
 * onEvent(type, data, id) is called once per new event, in order; onResync({ reason, id }) when the page must reload.
 */
export function createTracker({ onEvent, onResync, lastEventId } = {}) {
  let last = parseId(lastEventId ?? null);
  return {
    get lastEventId() { return last ? `${last.epoch}-${last.seq}` : null; },
    handle(type, id, data) {
      const parsed = parseId(id);
      if (type === "reset") {
        last = parsed;
        let reason = "reset";
        try { reason = JSON.parse(data).reason ?? reason; } catch { /* keep the default */ }
        onResync?.({ reason, id });
        return "reset";
      }
      if (!parsed) {
        onResync?.({ reason: "invalid-id", id });
        return "resync";
      }
      if (last && parsed.epoch === last.epoch && parsed.seq <= last.seq) return "duplicate";
      let outcome = "event";
      if (last && parsed.epoch !== last.epoch) {
        outcome = "resync";
        onResync?.({ reason: "epoch", id });
      } else if (last && parsed.seq !== last.seq + 1n) {
        outcome = "resync";
        onResync?.({ reason: "gap", id, expected: `${last.epoch}-${last.seq + 1n}` });
      }
      last = parsed;
      onEvent?.(type, data, id);
      return outcome;
    },
  };
}

/**
 * Opens an EventSource on url and routes its events through a tracker.
 * options: eventTypes (names to listen to besides "message"), onEvent, onResync, onError,
 * onOpen({ first }) (each time the connection opens; first is true once. A new connection opens only after the
 * server has fixed where it starts, so state loaded in the first onOpen misses nothing published later),
 * lastEventId (resume after a known id, e.g. the one returned with the state the page loaded),
 * withCredentials, EventSource (a constructor, for tests or polyfills).
 */
export function connect(url, options = {}) {
  const ES = options.EventSource ?? globalThis.EventSource;
  const tracker = createTracker(options);
  let target = url;
  if (options.lastEventId) {
    const u = new URL(url, globalThis.location?.href ?? "http://localhost/");
    u.searchParams.set("lastEventId", options.lastEventId);
    target = u.toString();
  }
  const source = new ES(target, { withCredentials: !!options.withCredentials });
  const listener = (e) => tracker.handle(e.type, e.lastEventId, e.data);
  for (const type of new Set(["message", "reset", ...(options.eventTypes ?? [])])) {
    source.addEventListener(type, listener);
  }
  if (options.onError) source.addEventListener("error", options.onError);
  if (options.onOpen) {
    let opened = false;
    source.addEventListener("open", () => {
      const first = !opened;
      opened = true;
      options.onOpen({ first });
    });
  }
  return {
    get lastEventId() { return tracker.lastEventId; },
    get readyState() { return source.readyState; },
    close() { source.close(); },
  };
}
