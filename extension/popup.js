// The popup: lists the technician's applications by customer with each one's state, and asks the
// service worker to request, extend, revoke or sign in. It never sees a password.
import { groupByCustomer, remaining } from "./lib/urls.js";

const $ = (id) => document.getElementById(id);

function send(type, extra = {}) {
  return chrome.runtime.sendMessage({ type, ...extra }).then((r) => {
    if (!r || !r.ok) throw new Error((r && r.error) || "no answer from the extension");
    return r.data;
  });
}

function say(text) {
  $("message").textContent = text || "";
}

function button(label, onClick, cls) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  if (cls) b.className = cls;
  b.addEventListener("click", async () => {
    b.disabled = true;
    say("");
    try {
      await onClick();
      await render();
    } catch (e) {
      say(e.message);
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

function appCard(app, grant) {
  const card = document.createElement("div");
  card.className = "app";
  card.dataset.applicationId = app.id;
  const name = document.createElement("div");
  name.className = "name";
  name.textContent = app.name;
  const state = document.createElement("div");
  const actions = document.createElement("div");
  actions.className = "actions";
  if (grant) {
    state.className = `state ${grant.status}`;
    state.textContent = grant.status === "active"
      ? `Active, ${remaining(grant.expires_at)} left`
      : grant.status.replace("_", " ");
    if (grant.status === "active") {
      actions.append(
        button("Sign in", () => send("signin", { id: grant.id }), "signin"),
        button("Extend 1h", () => send("extend", { id: grant.id, duration: "1h" }), "secondary"),
      );
    }
    actions.append(button("Revoke", () => send("revoke", { id: grant.id }), "secondary"));
  } else {
    state.className = "state";
    state.textContent = "Requestable";
    const form = $("request-form").content.firstElementChild.cloneNode(true);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const body = { application_id: app.id };
      const j = form.elements.justification.value.trim();
      const t = form.elements.ticket_reference.value.trim();
      if (j) body.justification = j;
      if (t) body.ticket_reference = t;
      try {
        await send("request", { body });
        await render();
      } catch (e) {
        say(e.message);
      }
    });
    actions.append(form);
  }
  card.append(name, state, actions);
  return card;
}

// signInNote says what happened to the last Sign in when it stopped short of the secret.
function signInNote(last) {
  if (!last || Date.now() - Date.parse(last.at) > 10 * 60 * 1000) return "";
  if (last.outcome === "ended") return "Sign in stopped: this access is no longer active, nothing was filled.";
  if (last.outcome === "timed_out") return "Sign in timed out: nothing more was filled. Click Sign in again.";
  if (last.outcome && last.outcome.startsWith("refused")) return "Sign in stopped: the page showed another account, nothing was filled.";
  return "";
}

// Transitions are shown as they happen (polled every 2 s); otherwise every 30 s.
const transitional = new Set(["pending", "pending_approval", "provisioning", "revoking"]);
let timer = null;

function schedule(s) {
  clearTimeout(timer);
  const busy = s && s.connected && s.live.some((g) => transitional.has(g.status));
  timer = setTimeout(() => render().catch(() => schedule(null)), busy ? 2000 : 30000);
}

async function render() {
  const s = await send("status");
  schedule(s);
  $("connect").hidden = s.connected;
  $("apps").hidden = !s.connected;
  $("footer").hidden = !s.connected;
  if (!s.connected) {
    $("who").textContent = "";
    $("signin-note").textContent = s.ended ? "Your extension session has ended: connect again." : "";
    $("base").value = s.base || "";
    return;
  }
  $("who").textContent = s.me.email || s.me.display_name || "";
  $("signin-note").textContent = signInNote(s.lastSignIn);
  const byApp = new Map(s.live.map((g) => [g.application_id, g]));
  const list = $("apps");
  list.replaceChildren();
  const groups = groupByCustomer(s.apps);
  if (!groups.length) list.textContent = "No applications: ask your MSP admin for access.";
  for (const g of groups) {
    const h = document.createElement("h2");
    h.textContent = g.tenant;
    list.append(h, ...g.items.map((a) => appCard(a, byApp.get(a.id))));
  }
}

chrome.storage.onChanged.addListener((changes, area) => {
  if (area === "session" && changes.lastSignIn) $("signin-note").textContent = signInNote(changes.lastSignIn.newValue);
});
$("connect-btn").addEventListener("click", async () => {
  say("");
  try {
    await send("connect", { base: $("base").value });
    window.close();
  } catch (e) {
    say(e.message);
  }
});
$("signout").addEventListener("click", async () => {
  try {
    await send("signout");
  } catch (e) {
    say(e.message);
  }
  await render();
});

render().catch((e) => {
  say(e.message);
  schedule(null);
});
