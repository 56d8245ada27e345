import { test } from "node:test";
import assert from "node:assert/strict";
import { groupByCustomer, isSignInPage, normalizeBase, remaining, warnAt } from "../lib/urls.js";
import { challengeOf } from "../lib/pkce.js";

test("credentials are typed only on the configured authority's sign-in pages", () => {
  const ms = "https://login.microsoftonline.com";
  const cases = [
    [ms + "/contoso.onmicrosoft.com/oauth2/v2.0/authorize?client_id=x", true],
    [ms + "/common/login", true],
    [ms + "/11111111-2222-3333-4444-555555555555/login", true],
    ["https://login.microsoftonline.com.evil.example/common/login", false],
    ["https://evil.example/common/login?https://login.microsoftonline.com", false],
    ["http://login.microsoftonline.com/common/login", false],
    ["https://login.microsoftonline.com:8443/common/login", false],
    [ms + "/", false],
    [ms + "/common/logout", false],
    ["not a url", false],
  ];
  for (const [url, want] of cases) assert.equal(isSignInPage(url, ms), want, url);
  const sim = "http://127.0.0.1:8090";
  assert.equal(isSignInPage(sim + "/tnt/oauth2/v2.0/authorize?x=1", sim), true);
  assert.equal(isSignInPage("http://127.0.0.1:8091/tnt/oauth2/v2.0/authorize", sim), false);
  assert.equal(isSignInPage("http://localhost:8090/tnt/oauth2/v2.0/authorize", sim), false);
});

test("the jitaccess address must be https, or http on loopback", () => {
  assert.equal(normalizeBase("https://jit.example.com/"), "https://jit.example.com");
  assert.equal(normalizeBase(" http://127.0.0.1:8080 "), "http://127.0.0.1:8080");
  assert.throws(() => normalizeBase("http://jit.example.com"), /https/);
  assert.throws(() => normalizeBase("jit.example.com"), /not a URL/);
  assert.throws(() => normalizeBase("https://user:pw@jit.example.com"), /user name/);
});

test("countdown and the 15-minute warning", () => {
  const now = Date.parse("2026-11-30T10:00:00Z");
  assert.equal(remaining("2026-11-30T13:12:30Z", now), "3h 12m");
  assert.equal(remaining("2026-11-30T10:04:59Z", now), "4m");
  assert.equal(remaining("2026-11-30T09:59:00Z", now), "expired");
  assert.equal(warnAt("2026-11-30T10:15:00Z"), now);
});

test("applications are grouped by customer, sorted", () => {
  const groups = groupByCustomer([
    { id: "b", name: "Zeta", tenant_name: "Retail" },
    { id: "a", name: "Alpha", tenant_name: "Retail" },
    { id: "c", name: "Main", tenant_name: "Bakery" },
  ]);
  assert.deepEqual(groups.map((g) => g.tenant), ["Bakery", "Retail"]);
  assert.deepEqual(groups[1].items.map((a) => a.id), ["a", "b"]);
});

test("PKCE S256 challenge matches RFC 7636's example", async () => {
  assert.equal(await challengeOf("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
});
