// The extension's service worker: holds the connection, talks to the jitaccess API, opens
// Microsoft's sign-in page for a grant and types the credentials there, warns before expiry.
import { call, APIError } from "./lib/api.js";
import { challengeOf, randomString } from "./lib/pkce.js";
import { fillStep } from "./lib/fill.js";
import { DROP, fillTimeoutMs, runFill } from "./lib/signin.js";
import { normalizeBase, warnAt } from "./lib/urls.js";

async function session() {
  return chrome.storage.session.get(["base", "token", "expires_at", "session_id", "connect"]);
}

async function api(method, path, body) {
  const s = await session();
  if (!s.base || !s.token) throw new APIError(401, "not_connected", "Connect the extension to jitaccess first");
  try {
    return await call(s.base, s.token, method, path, body);
  } catch (e) {
    if (e.status === 401) await forget();
    throw e;
  }
}

async function forget() {
  await chrome.storage.session.remove(["token", "expires_at", "session_id", "fills", "lastSignIn"]);
  await chrome.alarms.clearAll();
  await chrome.action.setBadgeText({ text: "" });
}

async function connect(input) {
  const base = normalizeBase(input);
  const origin = new URL(base).origin + "/*";
  if (!(await chrome.permissions.contains({ origins: [origin] }))) {
    const granted = await chrome.permissions.request({ origins: [origin] });
    if (!granted) throw new Error("The extension needs permission to reach " + new URL(base).origin);
  }
  const verifier = randomString(32);
  const state = randomString(16);
  await chrome.storage.session.set({ base, connect: { state, verifier } });
  await chrome.storage.local.set({ lastBase: base });
  const q = new URLSearchParams({
    extension_id: chrome.runtime.id,
    code_challenge: await challengeOf(verifier),
    code_challenge_method: "S256",
    state,
  });
  await chrome.tabs.create({ url: `${base}/extension/connect?${q}` });
}

async function finishConnect(code, state, tabId) {
  const s = await session();
  if (!s.connect || !s.base || s.connect.state !== state) throw new Error("This connection was not started by this browser");
  const out = await call(s.base, "", "POST", "/v1/extension/sessions", { code, code_verifier: s.connect.verifier });
  await chrome.storage.session.set({ token: out.token, expires_at: out.expires_at, session_id: out.id });
  await chrome.storage.session.remove("connect");
  if (tabId !== undefined) await chrome.tabs.remove(tabId).catch(() => {});
  await refresh();
}

async function signOut() {
  try {
    await api("DELETE", "/v1/extension/sessions/current");
  } finally {
    await forget();
  }
}

// refresh reads the technician's applications and grants and keeps the expiry alarms current.
async function refresh() {
  const me = await api("GET", "/v1/me");
  // Own grants only (an admin's list is everyone's), newest first; live ones are kept below.
  const [apps, grants, config] = await Promise.all([
    api("GET", "/v1/me/applications"),
    api("GET", `/v1/access-requests?technician_id=${encodeURIComponent(me.id)}`),
    api("GET", "/v1/extension/config"),
  ]);
  const live = (grants.items || grants.grants || grants || []).filter((g) =>
    ["pending", "pending_approval", "provisioning", "active", "revoking"].includes(g.status));
  await chrome.alarms.clearAll();
  let soon = 0;
  for (const g of live) {
    if (g.status !== "active" || !g.expires_at) continue;
    const when = warnAt(g.expires_at);
    if (when <= Date.now()) soon++;
    else chrome.alarms.create(`warn:${g.id}`, { when });
  }
  await chrome.action.setBadgeText({ text: soon ? "!" : live.some((g) => g.status === "active") ? "on" : "" });
  return { me, apps: apps.items || apps.applications || apps, live, config };
}

// Sign-ins under way, by tab id, in chrome.storage.session (so a restarted service worker
// carries on): grant id, account name, authority and deadline. Never a password or a pass.
async function pendingFills() {
  const { fills } = await chrome.storage.session.get("fills");
  return fills || {};
}

async function setPending(tabId, p) {
  const fills = await pendingFills();
  if (p) fills[tabId] = p;
  else delete fills[tabId];
  await chrome.storage.session.set({ fills });
}

async function recordSignIn(grantID, tabId, what) {
  await chrome.storage.session.set({ lastSignIn: { grant_id: grantID, tab_id: tabId, at: new Date().toISOString(), ...what } });
}

async function signIn(grantID) {
  const config = await api("GET", "/v1/extension/config");
  const grant = await api("GET", `/v1/access-requests/${encodeURIComponent(grantID)}`);
  if (grant.status !== "active") throw new Error("This grant is not active: nothing to sign in with");
  const upn = grant.account && grant.account.user_principal_name;
  if (!upn) throw new Error("This grant has no account yet");
  // The tab is known as pending before it loads anything: a fast sign-in page is not missed.
  const tab = await chrome.tabs.create({ url: "about:blank" });
  await setPending(tab.id, { grantID, authority: config.authority, upn, deadline: Date.now() + fillTimeoutMs });
  await recordSignIn(grantID, tab.id, { outcome: "opened" });
  await chrome.tabs.update(tab.id, { url: config.sign_in_url });
}

// One step at a time per tab: a page that loads while the previous step still runs waits.
const tabQueues = new Map();

function onTabComplete(tabId, url) {
  const prev = tabQueues.get(tabId) || Promise.resolve();
  const next = prev.then(() => fillTab(tabId, url)).catch((e) => console.warn("jitaccess sign-in:", e.message || e));
  tabQueues.set(tabId, next);
  next.finally(() => {
    if (tabQueues.get(tabId) === next) tabQueues.delete(tabId);
  });
}

async function fillTab(tabId, url) {
  const p = (await pendingFills())[tabId];
  if (!p) return;
  const inject = async (...args) => {
    const [res] = await chrome.scripting.executeScript({ target: { tabId }, func: fillStep, args });
    return res && res.result;
  };
  const outcome = await runFill({
    pending: p,
    pageURL: url,
    now: Date.now(),
    api,
    inject,
    record: (what) => recordSignIn(p.grantID, tabId, what),
  });
  if (outcome === DROP) await setPending(tabId, null);
}

chrome.tabs.onUpdated.addListener((tabId, info, tab) => {
  if (info.status === "complete" && tab.url) onTabComplete(tabId, tab.url);
});

chrome.tabs.onRemoved.addListener((tabId) => setPending(tabId, null));

chrome.alarms.onAlarm.addListener(async (alarm) => {
  if (!alarm.name.startsWith("warn:")) return;
  const id = alarm.name.slice(5);
  await chrome.action.setBadgeText({ text: "!" });
  await chrome.action.setBadgeBackgroundColor({ color: "#b45309" });
  chrome.notifications.create(`expiring:${id}`, {
    type: "basic",
    iconUrl: "icon.png",
    title: "jitaccess: access ends in 15 minutes",
    message: "Your admin access ends soon. Extend it by an hour, or let it end.",
    buttons: [{ title: "Extend 1 hour" }],
    requireInteraction: true,
  });
});

chrome.notifications.onButtonClicked.addListener(async (notificationID) => {
  if (!notificationID.startsWith("expiring:")) return;
  const id = notificationID.slice(9);
  await api("POST", `/v1/access-requests/${encodeURIComponent(id)}/extend`, { duration: "1h" });
  chrome.notifications.clear(notificationID);
  await refresh();
});

const handlers = {
  status: async () => {
    const s = await session();
    const { lastBase } = await chrome.storage.local.get("lastBase");
    if (!s.token) return { connected: false, base: s.base || lastBase || "" };
    const { lastSignIn } = await chrome.storage.session.get("lastSignIn");
    try {
      return { connected: true, base: s.base, expires_at: s.expires_at, lastSignIn: lastSignIn || null, ...(await refresh()) };
    } catch (e) {
      // Revoked on the portal, expired, or the person deactivated: back to Connect.
      if (e.status === 401) return { connected: false, base: s.base, ended: true };
      throw e;
    }
  },
  connect: (m) => connect(m.base),
  connected: (m, sender) => finishConnect(m.code, m.state, sender.tab && sender.tab.id),
  signout: () => signOut(),
  request: (m) => api("POST", "/v1/access-requests", m.body),
  extend: (m) => api("POST", `/v1/access-requests/${encodeURIComponent(m.id)}/extend`, { duration: m.duration }),
  revoke: (m) => api("POST", `/v1/access-requests/${encodeURIComponent(m.id)}/revoke`, { reason: "revoked from the browser extension" }),
  signin: (m) => signIn(m.id),
};

chrome.runtime.onMessage.addListener((msg, sender, reply) => {
  const h = handlers[msg && msg.type];
  if (!h || sender.id !== chrome.runtime.id) return false;
  Promise.resolve(h(msg, sender))
    .then((data) => reply({ ok: true, data }))
    .catch((e) => reply({ ok: false, error: e.message || String(e), code: e.code }));
  return true;
});
