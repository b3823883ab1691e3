/* Phase 1 EDC: small progressive enhancements. Every page works without this script.
 *
 * - Idle sessions: warn two minutes before the server-side idle timeout, then sign out. Typing
 *   counts as activity (a keep-alive ping slides the session), and the last contact with the
 *   server is shared between tabs so one idle tab does not sign out a busy one.
 * - Never lose what was typed: before an idle sign-out, forms marked data-draft are kept in this
 *   tab's sessionStorage (cleared when the tab closes) and restored after signing in again, with
 *   a notice; the server's version check still refuses a stale save.
 * - Copy buttons: a button with data-copy="#id" copies that field's value (an API token) and
 *   says so; without the script the field can still be selected and copied by hand.
 */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  /* ------------------------------------------------------------ copy buttons */
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-copy]") : null;
    if (!button) return;
    var field = document.querySelector(button.getAttribute("data-copy"));
    var status = document.getElementById(button.getAttribute("aria-describedby") || "");
    if (!field) return;
    var done = function (ok) {
      if (status) status.textContent = ok ? "Copied." : "Select the text and copy it (Ctrl+C).";
    };
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () { done(true); }, function () {
        done(document.execCommand && document.execCommand("copy"));
      });
    } else {
      done(document.execCommand && document.execCommand("copy"));
    }
  });

  var meta = function (name) {
    var el = document.querySelector('meta[name="' + name + '"]');
    return el ? el.getAttribute("content") : null;
  };
  var TIMEOUT_MS = Number(meta("session-timeout") || 0) * 1000;
  var WARN_MS = Math.min(120000, TIMEOUT_MS / 4);
  var PING_EVERY_MS = Math.min(60000, TIMEOUT_MS / 6);
  var CONTACT_KEY = "edc.lastContact";
  var DRAFT_PREFIX = "edc.draft:";
  var DRAFT_MAX_AGE_MS = 12 * 3600 * 1000;

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function store(kind) {
    try {
      return kind === "local" ? window.localStorage : window.sessionStorage;
    } catch (e) {
      return null;
    }
  }

  /* ---------------------------------------------------------------- drafts */
  function draftKey(form, index) {
    return DRAFT_PREFIX + location.pathname + "#" + (form.getAttribute("action") || "") + "#" + index;
  }

  function draftForms() {
    return Array.prototype.slice.call(document.querySelectorAll("form[data-draft]"));
  }

  function saveDrafts() {
    var s = store("session");
    if (!s) return;
    draftForms().forEach(function (form, index) {
      var fields = [];
      Array.prototype.forEach.call(form.elements, function (el) {
        if (!el.name || el.name === "csrfmiddlewaretoken" || el.type === "password" || el.type === "file" || el.type === "submit" || el.type === "button") return;
        if (el.type === "checkbox" || el.type === "radio") {
          fields.push({ name: el.name, value: el.value, checked: el.checked, check: true });
        } else {
          fields.push({ name: el.name, value: el.value });
        }
      });
      s.setItem(draftKey(form, index), JSON.stringify({ savedAt: Date.now(), fields: fields }));
    });
  }

  function clearDraft(form) {
    var s = store("session");
    if (!s) return;
    var index = draftForms().indexOf(form);
    if (index >= 0) s.removeItem(draftKey(form, index));
  }

  function restoreDrafts() {
    var s = store("session");
    if (!s) return;
    var restored = false;
    draftForms().forEach(function (form, index) {
      var key = draftKey(form, index);
      var raw = s.getItem(key);
      if (!raw) return;
      s.removeItem(key);
      var draft;
      try { draft = JSON.parse(raw); } catch (e) { return; }
      if (!draft || Date.now() - draft.savedAt > DRAFT_MAX_AGE_MS) return;
      var missingTerm = null, grade = null;
      draft.fields.forEach(function (f) {
        var candidates = form.querySelectorAll('[name="' + CSS.escape(f.name) + '"]');
        if (f.check) {
          var match = null;
          Array.prototype.forEach.call(candidates, function (el) { if (el.value === f.value) match = el; });
          if (match) match.checked = f.checked;
          else if (f.checked && f.name === "ctcae_term") missingTerm = f.value;
          if (f.checked && f.name === "grade") grade = f.value;
        } else if (candidates.length) {
          candidates[0].value = f.value;
        }
      });
      if (missingTerm && window.htmx) {
        var query = form.querySelector('[name="term_query"]');
        var search = query && query.getAttribute("hx-get");
        if (search) {
          window.htmx.ajax("GET", search + "?term_query=" + encodeURIComponent(query.value) + "&ctcae_term=" + encodeURIComponent(missingTerm), { target: "#term-results" }).then(function () {
            var radio = document.getElementById("term-" + missingTerm);
            if (radio) {
              radio.checked = true;
              var grades = radio.getAttribute("hx-get");
              window.htmx.ajax("GET", grades + "?ctcae_term=" + encodeURIComponent(missingTerm) + (grade ? "&grade=" + encodeURIComponent(grade) : ""), { target: "#grade-fieldset", swap: "outerHTML" });
            }
          });
        }
      }
      restored = true;
    });
    if (restored) {
      var notice = document.getElementById("draft-notice");
      if (notice) {
        notice.textContent = "What you typed before you were signed out has been restored below. It is not saved yet: check it and save.";
        notice.hidden = false;
      }
    }
  }

  /* ---------------------------------------------------------------- idle session */
  var local = store("local");
  var memoryContact = Date.now();

  // The server slides the session when it handles a request, so a contact counts from when the
  // request was sent, never from when a slow answer arrived (which would overstate the session).
  function touch(at) {
    var when = at || Date.now();
    if (when <= lastContact()) return;
    memoryContact = when;
    if (local) local.setItem(CONTACT_KEY, String(when));
  }

  function lastContact() {
    var shared = local ? Number(local.getItem(CONTACT_KEY) || 0) : 0;
    return Math.max(shared, memoryContact);
  }

  var signingOut = false;
  function signOut() {
    if (signingOut) return;
    signingOut = true;
    saveDrafts();
    var next = location.pathname + location.search;
    var login = (meta("login-url") || "/accounts/login/") + "?timeout=1&next=" + encodeURIComponent(next);
    var done = function () { location.assign(login); };
    fetch(meta("logout-url"), {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken() },
      credentials: "same-origin",
      redirect: "manual",
    }).then(done, done);
  }

  var pinging = false;
  function ping() {
    if (pinging || signingOut) return;
    pinging = true;
    var sentAt = Date.now();
    fetch(meta("keepalive-url"), {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken() },
      credentials: "same-origin",
      redirect: "manual",
    }).then(function (response) {
      pinging = false;
      if (response.status === 204) {
        touch(sentAt);
        hideWarning();
      } else if (response.type === "opaqueredirect" || response.status === 302 || response.status === 403) {
        signOut(); // the server already ended the session
      }
    }, function () { pinging = false; });
  }

  var warning = null;
  function showWarning(remainingMs) {
    if (!warning) return;
    var seconds = Math.max(0, Math.round(remainingMs / 1000));
    var text = seconds >= 90 ? Math.round(seconds / 60) + " minutes" : seconds + " seconds";
    var slot = warning.querySelector("[data-idle-remaining]");
    if (slot) slot.textContent = text;
    if (warning.hidden) {
      warning.hidden = false;
      var button = warning.querySelector("[data-stay-signed-in]");
      if (button) button.focus();
    }
  }
  function hideWarning() {
    if (warning && !warning.hidden) warning.hidden = true;
  }

  function check() {
    if (!TIMEOUT_MS || signingOut) return;
    var idle = Date.now() - lastContact();
    if (idle >= TIMEOUT_MS - 5000) {
      signOut();
    } else if (idle >= TIMEOUT_MS - WARN_MS) {
      showWarning(TIMEOUT_MS - idle);
    } else {
      hideWarning();
    }
  }

  function onActivity() {
    if (!TIMEOUT_MS || signingOut) return;
    if (Date.now() - lastContact() >= TIMEOUT_MS - 5000) {
      signOut();
    } else if (Date.now() - lastContact() > PING_EVERY_MS) {
      ping();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    restoreDrafts();
    if (!TIMEOUT_MS) return;
    touch();
    warning = document.getElementById("idle-warning");
    var stay = warning && warning.querySelector("[data-stay-signed-in]");
    if (stay) stay.addEventListener("click", ping);
    ["keydown", "input", "pointerdown"].forEach(function (name) {
      document.addEventListener(name, onActivity, { passive: true, capture: true });
    });
    window.addEventListener("storage", function (event) { if (event.key === CONTACT_KEY) check(); });
    document.addEventListener("visibilitychange", check);
    setInterval(check, 10000);

    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (Date.now() - lastContact() >= TIMEOUT_MS - 5000) {
        // The session has ended: keep what was typed and sign in again instead of posting it
        // to a login redirect that would drop it.
        event.preventDefault();
        signOut();
        return;
      }
      if (form.hasAttribute("data-draft")) clearDraft(form);
    });

    // htmx: a request is server contact; a redirect to the login page means the session ended.
    document.body.addEventListener("htmx:beforeSwap", function (event) {
      var xhr = event.detail.xhr;
      var login = meta("login-url");
      if (xhr && login && xhr.responseURL && xhr.responseURL.indexOf(login) !== -1) {
        event.detail.shouldSwap = false;
        signOut();
      }
    });
    document.body.addEventListener("htmx:beforeRequest", function (event) {
      event.detail.xhr._edcSentAt = Date.now();
    });
    document.body.addEventListener("htmx:afterRequest", function (event) {
      if (event.detail.successful) touch(event.detail.xhr._edcSentAt);
    });
  });
})();
