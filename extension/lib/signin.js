// The Sign in steps, one call per page load of the tab the extension opened. No chrome.*: the
// service worker passes the API and the page injection in, so the rules run under node --test.
//
// Nothing secret is kept between steps: the pending sign-in holds the grant id, the account's
// user name and where the sign-in may happen. The password or pass is read from the server
// (an audited credentials reveal, refused once the grant is no longer active) only when the
// page shows its field, and goes straight into it.
import { isSignInPage } from "./urls.js";

export const fillTimeoutMs = 2 * 60 * 1000;

// What runFill tells the caller to do with the pending sign-in.
export const KEEP = "keep";
export const DROP = "drop";

// runFill runs one step for a page of the sign-in tab.
//   pending: { grantID, authority, upn, deadline }
//   api(method, path) → JSON, throws an error with .status on refusals
//   inject(expectedOrigin, upn, secret, kind) → what fillStep returned in the page
//   record(outcome) → remembers the last outcome for the popup (never a secret)
export async function runFill({ pending, pageURL, now, api, inject, record }) {
  if (now > pending.deadline) {
    await record({ outcome: "timed_out" });
    return DROP;
  }
  if (!/^https?:/.test(pageURL)) return KEEP; // the blank page the tab starts with
  if (!isSignInPage(pageURL, pending.authority)) {
    await record({ outcome: "ignored", origin: originOf(pageURL) });
    return KEEP;
  }
  const origin = new URL(pending.authority).origin;
  const id = encodeURIComponent(pending.grantID);
  const ended = async (e) => {
    await record({ outcome: "ended", reason: e && e.code ? e.code : "grant_not_active" });
    return DROP;
  };
  let grant;
  try {
    grant = await api("GET", `/v1/access-requests/${id}`);
  } catch (e) {
    return ended(e);
  }
  if (!grant || grant.status !== "active") return ended();
  const step = await inject(origin, pending.upn, null, null);
  if (step === "username") {
    await record({ outcome: "username" });
    return KEEP;
  }
  if (step !== "secret-needed") {
    await record({ outcome: String(step) });
    return step && step.startsWith("refused") ? DROP : KEEP;
  }
  let creds;
  try {
    creds = await api("GET", `/v1/access-requests/${id}/credentials`);
  } catch (e) {
    return ended(e);
  }
  if (!creds || creds.user_principal_name !== pending.upn) return ended({ code: "account_changed" });
  const kind = creds.temporary_access_pass ? "tap" : "password";
  const res = await inject(origin, pending.upn, creds.temporary_access_pass || creds.password, kind);
  await record({ outcome: res === "secret" ? "filled" : String(res), kind });
  return res === "secret" || (res && res.startsWith("refused")) ? DROP : KEEP;
}

function originOf(raw) {
  try {
    return new URL(raw).origin;
  } catch {
    return "";
  }
}
