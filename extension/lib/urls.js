// URL rules shared by the popup, the service worker and the tests. Pure functions, no chrome.*.

// normalizeBase turns what the technician typed into the jitaccess origin + path prefix, or throws
// a sentence naming the problem. Plain http is allowed only for loopback (dev and tests).
export function normalizeBase(input) {
  let u;
  try {
    u = new URL(String(input).trim());
  } catch {
    throw new Error("That is not a URL: type your jitaccess address, e.g. https://jit.example.com");
  }
  const loopback = u.hostname === "127.0.0.1" || u.hostname === "localhost" || u.hostname === "[::1]";
  if (u.protocol !== "https:" && !(u.protocol === "http:" && loopback)) {
    throw new Error("jitaccess must be reached over https (plain http only on this computer)");
  }
  if (u.username || u.password || u.search || u.hash) {
    throw new Error("The jitaccess address must not carry a user name, query or fragment");
  }
  return u.origin + u.pathname.replace(/\/+$/, "");
}

// isSignInPage is the strict match deciding where credentials may be typed: the exact origin of
// the configured authority, on one of the identity platform's sign-in paths. Anything else
// (another host, a look-alike subdomain, another scheme or port) gets nothing.
export function isSignInPage(pageURL, authority) {
  let page, auth;
  try {
    page = new URL(pageURL);
    auth = new URL(authority);
  } catch {
    return false;
  }
  if (page.origin !== auth.origin) return false;
  const prefix = auth.pathname.replace(/\/+$/, "");
  const path = page.pathname;
  if (prefix && !path.startsWith(prefix + "/")) return false;
  const rest = path.slice(prefix.length);
  return /^\/[^/]+\/(oauth2\/(v2\.0\/)?authorize|login|reprocess|kmsi)\b/.test(rest) ||
    /^\/(common|organizations)\/(oauth2\/(v2\.0\/)?authorize|login)\b/.test(rest);
}

// remaining formats the time left until an ISO instant as "3h 12m" / "4m" / "expired".
export function remaining(expiresAt, now = Date.now()) {
  const ms = Date.parse(expiresAt) - now;
  if (!(ms > 0)) return "expired";
  const m = Math.floor(ms / 60000);
  if (m < 60) return `${m}m`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
}

// groupByCustomer groups the technician's applications by customer tenant, sorted by name.
export function groupByCustomer(apps) {
  const groups = new Map();
  for (const a of apps) {
    const key = a.tenant_name || a.tenant_id || "";
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(a);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([tenant, items]) => ({ tenant, items: items.sort((x, y) => x.name.localeCompare(y.name)) }));
}

// warnAt is when the expiry warning fires: 15 minutes before the grant ends.
export const warnBeforeMs = 15 * 60 * 1000;
export function warnAt(expiresAt) {
  return Date.parse(expiresAt) - warnBeforeMs;
}
