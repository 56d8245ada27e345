import { test } from "node:test";
import assert from "node:assert/strict";
import { fillStep } from "../lib/fill.js";

// A page of fields by selector, enough for fillStep (it runs in the page, on document/location).
function page(origin, fields, shownUPN) {
  const els = {};
  const submitted = [];
  for (const name of fields) {
    els[`input[name="${name}"]`] = { name, value: "", offsetParent: {}, type: "text", focus() {}, dispatchEvent() {} };
  }
  els['button[type="submit"]'] = { offsetParent: {}, type: "submit", click: () => submitted.push(true) };
  if (shownUPN) els["#displayName, [data-testid=\"upn\"], .identity, #upn"] = { textContent: shownUPN };
  globalThis.location = { origin };
  globalThis.document = { querySelector: (s) => els[s] || null };
  return { els, submitted, value: (n) => els[`input[name="${n}"]`].value };
}

const authority = "http://127.0.0.1:8090";

test("the user name, then secret-needed, then the pass into its field", () => {
  let p = page(authority, ["login"]);
  assert.equal(fillStep(authority, "jit@contoso.com", null, null), "username");
  assert.equal(p.value("login"), "jit@contoso.com");
  assert.equal(p.submitted.length, 1);
  p = page(authority, ["passwd", "tap"], "jit@contoso.com");
  assert.equal(fillStep(authority, "jit@contoso.com", null, null), "secret-needed");
  assert.equal(p.value("passwd") + p.value("tap"), "", "a probe types nothing");
  assert.equal(fillStep(authority, "jit@contoso.com", "TAP-123", "tap"), "secret");
  assert.equal(p.value("tap"), "TAP-123");
  assert.equal(p.value("passwd"), "");
});

test("another origin with the same field names gets nothing", () => {
  for (const origin of ["http://127.0.0.1:9999", "https://login.microsoftonline.com.evil.example", "http://localhost:8090"]) {
    const p = page(origin, ["login", "loginfmt", "passwd", "tap"]);
    assert.equal(fillStep(authority, "jit@contoso.com", "secret", "password"), "refused: wrong origin");
    for (const n of ["login", "loginfmt", "passwd", "tap"]) assert.equal(p.value(n), "", `${origin} ${n}`);
    assert.equal(p.submitted.length, 0);
  }
});

test("a secret step showing another account gets nothing", () => {
  const p = page(authority, ["passwd"], "admin@contoso.onmicrosoft.com");
  assert.equal(fillStep(authority, "jit@contoso.com", "pw", "password"), "refused: another account");
  assert.equal(p.value("passwd"), "");
});
