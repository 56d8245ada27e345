// The portal sends the browser here after the technician approved the connection. The one-time
// code is exchanged (with the PKCE verifier the service worker kept) for a short-lived session.
const q = new URLSearchParams(location.search);
const out = document.getElementById("message");
history.replaceState(null, "", location.pathname);
chrome.runtime.sendMessage({ type: "connected", code: q.get("code") || "", state: q.get("state") || "" }).then((r) => {
  out.textContent = r && r.ok ? "Connected. Open the jitaccess button in the toolbar." : `Not connected: ${(r && r.error) || "no answer"}`;
});
