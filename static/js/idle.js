// Idle logoff that keeps the user's work.
//
// The server signs an idle session out whatever this script does (HIPAA's automatic logoff); this
// script only makes it kind: a warning a minute before with "Stay signed in", and, when the time is
// up, the forms the user was filling kept in this browser tab (sessionStorage, gone when the tab
// closes; never localStorage), offered back after signing in again as the same user.
"use strict";

(() => {
  const root = document.getElementById("idle-logoff");
  if (!root) {
    return;  // not signed in
  }
  const STORE_PREFIX = "backoffice.unsaved:";
  const POLL_MS = 10000;  // while the warning shows: did another tab keep the session alive?
  const userId = root.dataset.userId;
  const warningMs = Number(root.dataset.warningSeconds) * 1000;
  const limitMs = Number(root.dataset.limitSeconds) * 1000;
  const warning = document.getElementById("idle-warning");
  const warningText = document.getElementById("idle-warning-text");
  const stayButton = warning.querySelector("[data-idle-stay]");
  let deadline = Date.now() + Number(root.dataset.remainingSeconds) * 1000;
  let extendable = root.dataset.extendable === "yes";
  let timer = null;
  let focusBefore = null;
  let leaving = false;

  // Fields never kept: secrets, and bookkeeping the fresh page renders anew. A versioned form's
  // `version` and `original` are kept, so that saving the restored form after someone else saved
  // the record is refused as stale and merged, instead of overwriting their change.
  const SKIPPED_TYPES = new Set(["password", "file", "submit", "button", "reset", "image"]);
  const KEPT_HIDDEN = new Set(["version", "original"]);

  function storageKey(path) {
    return STORE_PREFIX + path;
  }

  function here() {
    return window.location.pathname + window.location.search;
  }

  function store() {
    try {
      return window.sessionStorage;
    } catch {
      return null;  // storage switched off: the warning still works, nothing is kept
    }
  }

  // ---- Asking the server -------------------------------------------------------------------

  // The seconds left, or null when the session has ended. Asking does not count as activity.
  async function askServer(url, options) {
    try {
      const response = await fetch(url, {
        credentials: "same-origin", redirect: "manual", headers: {Accept: "application/json"}, ...options,
      });
      if (response.type === "opaqueredirect" || response.status === 401) {
        return null;  // signed out (here or in another tab)
      }
      if (!response.ok) {
        return undefined;  // a passing fault: try again later
      }
      return await response.json();
    } catch {
      return undefined;  // offline for a moment: the server still decides
    }
  }

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(check, Math.max(ms, 0));
  }

  function scheduleWarning() {
    schedule(deadline - warningMs - Date.now());
  }

  function learn(state) {
    deadline = Date.now() + state.remaining_seconds * 1000;
    extendable = state.extendable;
  }

  async function check() {
    const state = await askServer(root.dataset.timeLeftUrl);
    if (state === null) {
      leave();
      return;
    }
    if (state === undefined) {
      // Cannot ask now; past the deadline the server has ended the session anyway.
      schedule(Date.now() >= deadline ? POLL_MS : Math.min(POLL_MS, deadline - Date.now()));
      return;
    }
    learn(state);
    const left = deadline - Date.now();
    if (left > warningMs) {
      hideWarning();
      scheduleWarning();
      return;
    }
    showWarning(left);
    // Look again at the deadline, or sooner to notice activity in another tab.
    schedule(Math.min(POLL_MS, left + 250));
  }

  async function staySignedIn() {
    const state = await askServer(root.dataset.stayUrl, {
      method: "POST", headers: {Accept: "application/json", "X-CSRFToken": root.dataset.csrfToken},
    });
    if (state) {
      learn(state);
      hideWarning();
      scheduleWarning();
    } else {
      check();
    }
  }

  // ---- The warning -------------------------------------------------------------------------

  function inWords(ms) {
    const seconds = Math.max(Math.round(ms / 1000), 1);
    if (seconds >= 50 && seconds <= 70) {
      return "about a minute";
    }
    return seconds > 70 ? `${Math.round(seconds / 60)} minutes` : `${seconds} seconds`;
  }

  function showWarning(left) {
    if (!warning.hidden) {
      return;
    }
    warning.hidden = false;
    stayButton.hidden = !extendable;
    // Set after showing, so that screen readers announce it (aria-live on the paragraph).
    warningText.textContent = extendable
      ? `To protect patients' privacy, a session ends after ${inWords(limitMs)} without activity. ` +
        `You will be signed out in ${inWords(left)}; what you are typing here will be kept for you.`
      : `Your session reaches its time limit in ${inWords(left)}; you will need to sign in again. ` +
        `What you are typing here will be kept for you.`;
    // Only take the focus from nowhere: someone typing in a field keeps their cursor.
    const active = document.activeElement;
    if (extendable && (!active || active === document.body)) {
      focusBefore = active;
      stayButton.focus();
    }
  }

  function hideWarning() {
    if (warning.hidden) {
      return;
    }
    const hadFocus = warning.contains(document.activeElement);
    warning.hidden = true;
    warningText.textContent = "";
    if (hadFocus && focusBefore && focusBefore !== document.body) {
      focusBefore.focus();
    }
    focusBefore = null;
  }

  // ---- Keeping the forms -------------------------------------------------------------------

  function keptFields(form) {
    return Array.from(form.elements).filter((element) => {
      if (!element.name || element.disabled || element.name === "csrf_token") {
        return false;
      }
      const type = (element.type || "").toLowerCase();
      if (SKIPPED_TYPES.has(type) || element.autocomplete === "one-time-code") {
        return false;
      }
      return type !== "hidden" || KEPT_HIDDEN.has(element.name);
    });
  }

  function isChanged(element) {
    const type = (element.type || "").toLowerCase();
    if (type === "hidden") {
      return false;
    }
    if (type === "checkbox" || type === "radio") {
      return element.checked !== element.defaultChecked;
    }
    if (element.tagName === "SELECT") {
      return Array.from(element.options).some((option) => option.selected !== option.defaultSelected);
    }
    return "defaultValue" in element && element.value !== element.defaultValue;
  }

  function valueOf(element) {
    const type = (element.type || "").toLowerCase();
    if (type === "checkbox" || type === "radio") {
      return {name: element.name, value: element.value, checked: element.checked};
    }
    if (element.tagName === "SELECT" && element.multiple) {
      return {name: element.name, values: Array.from(element.selectedOptions, (option) => option.value)};
    }
    return {name: element.name, value: element.value};
  }

  function postForms() {
    return Array.from(document.forms).filter((form) => (form.getAttribute("method") || "").toLowerCase() === "post"
      && form.getAttribute("action") !== root.dataset.logoutUrl);
  }

  function saveForms() {
    const storage = store();
    if (!storage) {
      return;
    }
    const forms = [];
    postForms().forEach((form, index) => {
      const fields = keptFields(form);
      if (fields.some(isChanged)) {
        forms.push({index, action: form.getAttribute("action") || "", fields: fields.map(valueOf)});
      }
    });
    if (!forms.length) {
      return;
    }
    try {
      storage.setItem(storageKey(here()), JSON.stringify({user: userId, forms}));
    } catch {
      // Storage full or refused: nothing more can be done without the server.
    }
  }

  function fill(form, fields) {
    const seen = new Map();
    const touched = new Set();
    for (const field of fields) {
      const candidates = Array.from(form.elements).filter((element) => element.name === field.name);
      let element;
      if ("checked" in field) {
        element = candidates.find((candidate) => candidate.value === field.value);
        if (element) {
          element.checked = field.checked;
        }
      } else {
        // Fields sharing a name are matched in the order the page has them.
        const position = seen.get(field.name) || 0;
        seen.set(field.name, position + 1);
        element = candidates.filter((candidate) => !["checkbox", "radio"].includes(candidate.type))[position];
        if (element && "values" in field) {
          Array.from(element.options).forEach((option) => { option.selected = field.values.includes(option.value); });
        } else if (element) {
          element.value = field.value;
        }
      }
      if (element) {
        touched.add(element);
      }
    }
    // Let the page's own scripts react (the booking form's rooms and end time, for one).
    touched.forEach((element) => {
      element.dispatchEvent(new Event("input", {bubbles: true}));
      element.dispatchEvent(new Event("change", {bubbles: true}));
    });
    return Array.from(touched).filter((element) => element.type !== "hidden");
  }

  function restore(saved) {
    const forms = postForms();
    const filled = [];
    for (const kept of saved.forms) {
      const form = forms[kept.index];
      if (form && (form.getAttribute("action") || "") === kept.action) {
        filled.push(...fill(form, kept.fields));
      }
    }
    return filled;
  }

  function fitsThisPage(saved) {
    const forms = postForms();
    return Array.isArray(saved.forms) && saved.forms.some(
      (kept) => forms[kept.index] && (forms[kept.index].getAttribute("action") || "") === kept.action);
  }

  // Whatever another user left in this tab is dropped unseen; this user's, for this page, is offered.
  function offerRestore() {
    const storage = store();
    if (!storage) {
      return;
    }
    let mine = null;
    for (const key of Object.keys(storage)) {
      if (!key.startsWith(STORE_PREFIX)) {
        continue;
      }
      let saved = null;
      try {
        saved = JSON.parse(storage.getItem(key));
      } catch {
        saved = null;
      }
      if (!saved || saved.user !== userId) {
        storage.removeItem(key);
      } else if (key === storageKey(here())) {
        mine = saved;
      }
    }
    if (!mine) {
      return;
    }
    if (!fitsThisPage(mine)) {
      storage.removeItem(storageKey(here()));
      return;
    }
    const offer = document.getElementById("idle-restore");
    offer.hidden = false;
    document.getElementById("idle-restore-text").textContent =
      "You were signed out while filling in a form on this page. What you had typed was kept in this " +
      "browser tab only.";
    const close = () => {
      storage.removeItem(storageKey(here()));
      offer.hidden = true;
    };
    offer.querySelector("[data-idle-restore]").addEventListener("click", () => {
      const filled = restore(mine);
      close();
      if (filled.length) {
        filled[0].focus();
      }
    });
    offer.querySelector("[data-idle-discard]").addEventListener("click", close);
  }

  function forgetEverything() {
    const storage = store();
    if (storage) {
      Object.keys(storage).filter((key) => key.startsWith(STORE_PREFIX)).forEach((key) => storage.removeItem(key));
    }
  }

  // ---- Leaving -----------------------------------------------------------------------------

  function leave() {
    if (leaving) {
      return;
    }
    leaving = true;
    clearTimeout(timer);
    saveForms();
    const login = new URL(root.dataset.loginUrl, window.location.href);
    login.searchParams.set("next", here());
    window.location.assign(login.toString());
  }

  // A form sent after the deadline (a sleeping laptop's timers run late) would be refused by the
  // server and its content lost: ask first, and keep the form if the session is over.
  let resubmitting = false;
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (leaving) {
      event.preventDefault();  // on the way to the sign-in page, the form already kept
      return;
    }
    if (resubmitting || Date.now() < deadline || form.getAttribute("action") === root.dataset.logoutUrl) {
      return;
    }
    event.preventDefault();
    event.stopPropagation();  // other handlers (a confirmation) see the form when it is sent again
    const submitter = event.submitter;
    askServer(root.dataset.timeLeftUrl).then((state) => {
      if (state === null) {
        leave();
        return;
      }
      if (state) {
        learn(state);
        scheduleWarning();
      }
      resubmitting = true;
      form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
      resubmitting = false;
    });
  }, true);

  // Signing out on purpose leaves nothing behind in the tab.
  document.addEventListener("submit", (event) => {
    if (!event.defaultPrevented && event.target.getAttribute("action") === root.dataset.logoutUrl) {
      forgetEverything();
    }
  });

  stayButton.addEventListener("click", staySignedIn);
  offerRestore();
  scheduleWarning();
})();
