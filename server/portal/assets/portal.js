// jitaccess portal: reveal and copy the password and the Temporary Access Pass, live countdowns, refresh while a grant
// is being prepared, and the IF picker of entitlement rules. Pages work without it.
(function () {
  "use strict";

  function left(ms) {
    if (ms <= 0) return "expired";
    var s = Math.floor(ms / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    s = s % 60;
    return (h ? h + " h " : "") + (h || m ? m + " min " : "") + s + " s left";
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var ms = Date.parse(el.getAttribute("data-countdown")) - now;
      el.textContent = left(ms);
      if (ms <= 0 && el.id === "countdown" && !el.dataset.reloading) {
        el.dataset.reloading = "1";
        setTimeout(function () { location.reload(); }, 3000);
      }
    });
  }

  function copy(id, status) {
    var el = document.getElementById(id);
    if (!el) return;
    var text = el.textContent;
    var done = function () { if (status) status.textContent = "Copied to the clipboard."; };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () { select(el); });
    } else {
      select(el);
    }
  }

  function select(el) {
    var r = document.createRange();
    r.selectNodeContents(el);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(r);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (document.querySelector("[data-countdown]")) {
      tick();
      setInterval(tick, 1000);
    }

    var refresh = document.querySelector("[data-refresh]");
    if (refresh) {
      setTimeout(function () { location.reload(); }, 1000 * Number(refresh.getAttribute("data-refresh")));
    }

    var status = document.getElementById("copy-status");
    document.querySelectorAll("[data-copy]").forEach(function (b) {
      b.addEventListener("click", function () { copy(b.getAttribute("data-copy"), status); });
    });

    // Reveal fetches the password without leaving the page (POST with the CSRF token).
    document.querySelectorAll("form[data-reveal]").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var target = document.getElementById(form.getAttribute("data-reveal"));
        fetch(form.action, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams(new FormData(form)).toString()
        }).then(function (r) {
          return r.json().then(function (body) { return { ok: r.ok, body: body }; });
        }).then(function (res) {
          if (!res.ok) {
            target.textContent = (res.body.error && res.body.error.message) || "The password could not be read.";
            return;
          }
          target.textContent = res.body.password;
          var btn = form.querySelector("button");
          if (btn) btn.hidden = true;
          var tap = document.getElementById("tap");
          if (tap && res.body.temporary_access_pass) {
            tap.textContent = res.body.temporary_access_pass;
            var ct = document.getElementById("copy-tap");
            if (ct) ct.hidden = false;
          }
          var c = document.getElementById("copy-password");
          if (c) { c.hidden = false; c.focus(); }
          if (status) status.textContent = tap ? "Password and pass revealed." : "Password revealed.";
        }).catch(function () { form.submit(); });
      });
    });

    // Entitlements: show the picker the IF choice uses.
    var cond = document.getElementById("condition_type");
    if (cond) {
      var sync = function () {
        document.querySelectorAll("[data-when]").forEach(function (el) {
          el.hidden = el.getAttribute("data-when") !== cond.value;
        });
      };
      cond.addEventListener("change", sync);
      sync();
    }
  });
})();
