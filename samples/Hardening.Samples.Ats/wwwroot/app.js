// The sample's page: no build step. Log in, list candidates, move one, and see changes from anywhere arrive live
// through the Hardening.Sse browser client.
import { connect } from "/hardening-sse.js";

let token = null;
let sub = null;
const rows = new Map();
const $ = (id) => document.getElementById(id);

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(options.headers ?? {}) },
  });
  const body = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new Error(body?.detail ?? `HTTP ${response.status}`);
  return body;
}

function render(c) {
  let tr = rows.get(c.id);
  if (!tr) {
    tr = document.createElement("tr");
    tr.dataset.id = c.id;
    $("candidates").appendChild(tr);
    rows.set(c.id, tr);
  }
  tr.replaceChildren();
  const name = document.createElement("td"); name.textContent = c.name; name.className = "name";
  const status = document.createElement("td"); status.textContent = c.status; status.className = "status";
  const black = document.createElement("td"); black.textContent = c.isBlacklisted ? "yes" : "no"; black.className = "blacklisted";
  const move = document.createElement("td");
  for (const trigger of c.permittedTriggers ?? []) {
    const b = document.createElement("button");
    b.textContent = trigger;
    b.dataset.trigger = trigger;
    b.addEventListener("click", () => fire(c, trigger));
    move.appendChild(b);
  }
  tr.append(name, status, black, move);
}

async function fire(c, trigger) {
  $("error").textContent = "";
  try {
    await api(`/api/candidates/${c.id}/transitions`, {
      method: "POST",
      body: JSON.stringify({ trigger, reason: `moved from the web page (${trigger})`, expectedState: c.status }),
    });
    then(() => refresh(c.id));
  } catch (e) {
    $("error").textContent = e.message;
  }
}

async function refresh(id) {
  render(await api(`/api/candidates/${id}`));
}

async function loadAll() {
  rows.clear();
  $("candidates").replaceChildren();
  let after = null;
  do {
    const page = await api(`/api/candidates?limit=100${after ? `&after=${after}` : ""}`);
    page.items.forEach(render);
    after = page.next;
  } while (after);
}

// Loads, refreshes and re-syncs run one after another, so a list fetched before a change never overwrites the row
// that change's refresh rendered.
let work = Promise.resolve();
const then = (step) => { work = work.then(step).catch((e) => { $("error").textContent = e.message; }); };

function watch() {
  sub?.close?.();
  $("live").textContent = "live: connecting…";
  sub = connect(`/api/events?access_token=${encodeURIComponent(token)}`, {
    eventTypes: ["candidate.created", "candidate.updated", "candidate.transitioned"],
    onEvent: (type, data) => {
      const e = JSON.parse(data);
      const li = document.createElement("li");
      li.textContent = `${type}: ${e.name ?? e.candidateId} ${e.from ? `${e.from} → ${e.to}` : ""}`;
      $("events").prepend(li);
      then(() => refresh(e.id ?? e.candidateId));
    },
    onResync: () => then(loadAll),
    // The list is loaded once the stream is open: the server opens a new stream only after fixing where it starts,
    // so a change made after the list was read always arrives as an event (loading first would leave a gap).
    onOpen: ({ first }) => {
      if (first) then(loadAll);
      then(() => { $("live").textContent = "live: connected"; });
    },
    onError: () => { $("live").textContent = "live: reconnecting…"; },
  });
}

$("login").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  $("login-error").textContent = "";
  try {
    const t = await api("/api/auth/login", { method: "POST", body: JSON.stringify(Object.fromEntries(f)) });
    token = t.accessToken;
    $("who").textContent = f.get("email");
    $("login").hidden = true;
    $("app").hidden = false;
    watch();
  } catch (e) {
    $("login-error").textContent = e.message;
  }
});

$("add").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  const body = { name: f.get("name") };
  if (f.get("email")) body.email = f.get("email");
  try {
    render(await api("/api/candidates", { method: "POST", body: JSON.stringify(body), headers: { "Idempotency-Key": crypto.randomUUID() } }));
    ev.target.reset();
  } catch (e) {
    $("error").textContent = e.message;
  }
});
