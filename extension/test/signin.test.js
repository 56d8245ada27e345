import { test } from "node:test";
import assert from "node:assert/strict";
import { DROP, KEEP, runFill } from "../lib/signin.js";

const authority = "http://127.0.0.1:8090";
const upn = "jit-tech@contoso.com";
const signInURL = authority + "/organizations/oauth2/v2.0/authorize?client_id=x";

// fake is the server and the page: grants by status, what the page shows, and every call made.
function fake({ status = "active", page = "username", creds = { user_principal_name: upn, password: "pw-1", temporary_access_pass: "tap-1" } } = {}) {
  const calls = [];
  const typed = [];
  const records = [];
  return {
    calls,
    typed,
    records,
    api: async (method, path) => {
      calls.push(`${method} ${path}`);
      if (path.endsWith("/credentials")) {
        if (status !== "active") throw Object.assign(new Error("not active"), { status: 409, code: "grant_not_active" });
        return creds;
      }
      return { id: "grt_1", status, account: { user_principal_name: upn } };
    },
    inject: async (origin, name, secret, kind) => {
      assert.equal(origin, authority);
      if (secret === null) {
        if (page === "username") {
          typed.push(name);
          return "username";
        }
        return page === "secret" ? "secret-needed" : "nothing";
      }
      typed.push(`${kind}:${secret}`);
      return "secret";
    },
    record: async (r) => records.push(r),
  };
}

const pending = (deadline = Date.now() + 60000) => ({ grantID: "grt_1", authority, upn, deadline });

test("active grant: the user name, then the pass read once from the server into the page", async () => {
  const f = fake();
  assert.equal(await runFill({ pending: pending(), pageURL: signInURL, now: Date.now(), ...f }), KEEP);
  assert.deepEqual(f.typed, [upn]);
  assert.ok(!f.calls.some((c) => c.endsWith("/credentials")), "no credentials read for the user name");
  const g = fake({ page: "secret" });
  assert.equal(await runFill({ pending: pending(), pageURL: signInURL, now: Date.now(), ...g }), DROP);
  assert.deepEqual(g.typed, ["tap:tap-1"]);
  assert.deepEqual(g.calls, ["GET /v1/access-requests/grt_1", "GET /v1/access-requests/grt_1/credentials"]);
  assert.deepEqual(g.records.at(-1), { outcome: "filled", kind: "tap" });
});

test("password when the grant has no pass", async () => {
  const f = fake({ page: "secret", creds: { user_principal_name: upn, password: "pw-1", temporary_access_pass: null } });
  assert.equal(await runFill({ pending: pending(), pageURL: signInURL, now: Date.now(), ...f }), DROP);
  assert.deepEqual(f.typed, ["password:pw-1"]);
});

test("a page on another origin with the same fields gets nothing and the server is not asked", async () => {
  for (const url of ["http://127.0.0.1:9999/organizations/oauth2/v2.0/authorize", "https://evil.example/login", "http://localhost:8090/x/login"]) {
    const f = fake({ page: "secret" });
    assert.equal(await runFill({ pending: pending(), pageURL: url, now: Date.now(), ...f }), KEEP, url);
    assert.deepEqual(f.typed, [], url);
    assert.deepEqual(f.calls, [], url);
    assert.equal(f.records[0].outcome, "ignored");
  }
});

test("a revoked or expired grant fills nothing, not even the user name", async () => {
  for (const status of ["revoked", "expired", "revoking", "failed"]) {
    for (const page of ["username", "secret"]) {
      const f = fake({ status, page });
      assert.equal(await runFill({ pending: pending(), pageURL: signInURL, now: Date.now(), ...f }), DROP);
      assert.deepEqual(f.typed, [], `${status} ${page}`);
      assert.ok(!f.calls.some((c) => c.endsWith("/credentials")), "no credentials read");
      assert.equal(f.records.at(-1).outcome, "ended");
    }
  }
});

test("a grant revoked between the status read and the credentials read fills nothing", async () => {
  const f = fake({ page: "secret" });
  const api = f.api;
  f.api = async (method, path) => {
    if (path.endsWith("/credentials")) throw Object.assign(new Error("grant is revoked"), { status: 409, code: "grant_not_active" });
    return api(method, path);
  };
  assert.equal(await runFill({ pending: pending(), pageURL: signInURL, now: Date.now(), ...f }), DROP);
  assert.deepEqual(f.typed, []);
  assert.deepEqual(f.records.at(-1), { outcome: "ended", reason: "grant_not_active" });
});

test("after the deadline nothing is filled", async () => {
  const f = fake();
  assert.equal(await runFill({ pending: pending(Date.now() - 1), pageURL: signInURL, now: Date.now(), ...f }), DROP);
  assert.deepEqual(f.typed, []);
  assert.deepEqual(f.calls, []);
});

test("credentials of another account are not typed", async () => {
  const f = fake({ page: "secret", creds: { user_principal_name: "someone-else@contoso.com", password: "x", temporary_access_pass: "y" } });
  assert.equal(await runFill({ pending: pending(), pageURL: signInURL, now: Date.now(), ...f }), DROP);
  assert.deepEqual(f.typed, []);
});
