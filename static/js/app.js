// Small progressive enhancements; every page works without them.
"use strict";

// After a refused save, put the cursor in the first field that needs attention.
document.addEventListener("DOMContentLoaded", () => {
  const problem = document.querySelector("input.is-invalid, select.is-invalid, textarea.is-invalid, ul.is-invalid input");
  if (problem) {
    problem.focus();
  }
});

document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});

// Booking: search patients as you type; picking one puts their MRN in the field.
function setUpPatientSearch(input) {
  const list = document.getElementById("patient-suggestions");
  const chosen = document.getElementById("chosen-patient");
  if (!list) {
    return;
  }
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");
  input.removeAttribute("maxlength");
  let timer = null;
  let active = -1;

  function close() {
    list.hidden = true;
    list.replaceChildren();
    input.setAttribute("aria-expanded", "false");
    active = -1;
  }

  function pick(option) {
    input.value = option.dataset.mrn;
    if (chosen) {
      chosen.textContent = option.textContent;
    }
    close();
  }

  function highlight(index) {
    const options = list.querySelectorAll("[role=option]");
    options.forEach((option, i) => option.setAttribute("aria-selected", String(i === index)));
    active = index;
    if (options[index]) {
      input.setAttribute("aria-activedescendant", options[index].id);
    }
  }

  async function search() {
    const query = input.value.trim();
    if (query.length < 2 || /^\d{8}$/.test(query)) {
      close();
      return;
    }
    const response = await fetch(`${input.dataset.patientSearch}?q=${encodeURIComponent(query)}`,
                                 {headers: {Accept: "application/json"}});
    if (!response.ok) {
      close();
      return;
    }
    const patients = await response.json();
    list.replaceChildren(...patients.map((patient, index) => {
      const option = document.createElement("li");
      option.className = "list-group-item list-group-item-action";
      option.id = `patient-option-${index}`;
      option.setAttribute("role", "option");
      option.dataset.mrn = patient.mrn;
      option.textContent = patient.label;
      option.addEventListener("mousedown", (e) => { e.preventDefault(); pick(option); });
      return option;
    }));
    if (!patients.length) {
      const none = document.createElement("li");
      none.className = "list-group-item text-muted";
      none.textContent = "No patient matches.";
      list.append(none);
    }
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    highlight(patients.length ? 0 : -1);
  }

  input.addEventListener("input", () => {
    if (chosen) {
      chosen.textContent = "";
    }
    clearTimeout(timer);
    timer = setTimeout(search, 200);
  });
  input.addEventListener("keydown", (event) => {
    const options = list.querySelectorAll("[role=option]");
    if (list.hidden || !options.length) {
      return;
    }
    if (event.key === "ArrowDown") {
      event.preventDefault();
      highlight(Math.min(active + 1, options.length - 1));
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      highlight(Math.max(active - 1, 0));
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      pick(options[active]);
    } else if (event.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", () => {
    // One match left: take it, as a person would expect after typing enough to single it out.
    const options = list.querySelectorAll("[role=option]");
    if (!list.hidden && options.length === 1) {
      pick(options[0]);
    }
    setTimeout(close, 150);
  });
}

// Booking: only the rooms of the chosen office, and when the procedure ends.
function setUpBookingForm(form) {
  const office = form.querySelector("#office_id");
  const room = form.querySelector("#room_id");
  const procedure = form.querySelector("#procedure_type_id");
  const time = form.querySelector("#time");
  const end = document.getElementById("booking-end");

  function showRoomsOfOffice() {
    if (!office || !room) {
      return;
    }
    const name = office.options[office.selectedIndex]?.text;
    let firstVisible = null;
    room.querySelectorAll("optgroup").forEach((group) => {
      const here = group.label === name;
      group.hidden = !here;
      group.disabled = !here;
      if (here && !firstVisible) {
        firstVisible = group.querySelector("option");
      }
    });
    const current = room.options[room.selectedIndex];
    if ((!current || current.parentElement.disabled) && firstVisible) {
      firstVisible.selected = true;
    }
  }

  function showEnd() {
    if (!end || !procedure || !time || !time.value) {
      return;
    }
    const option = procedure.options[procedure.selectedIndex];
    const minutes = Number(option?.dataset.minutes || 0);
    if (!minutes) {
      end.textContent = "";
      return;
    }
    const [hours, mins] = time.value.split(":").map(Number);
    const total = hours * 60 + mins + minutes;
    const pad = (n) => String(n).padStart(2, "0");
    const turnover = Number(option.dataset.turnover || 0);
    end.textContent = `Ends ${pad(Math.floor(total / 60) % 24)}:${pad(total % 60)}` +
      (turnover ? `; the room is turned over for ${turnover} minutes after.` : ".");
  }

  office?.addEventListener("change", showRoomsOfOffice);
  procedure?.addEventListener("change", showEnd);
  time?.addEventListener("input", showEnd);
  showRoomsOfOffice();
  showEnd();
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("input[data-patient-search]").forEach(setUpPatientSearch);
  document.querySelectorAll("form.booking-form").forEach(setUpBookingForm);
  // A fresh booking form starts in the patient field.
  const patient = document.querySelector("form.booking-form input[data-patient-search]");
  if (patient && !patient.value && !document.querySelector(".is-invalid")) {
    patient.focus();
  }
});

// Booking: ask region, side and levels only when the chosen procedure does.
document.addEventListener("DOMContentLoaded", () => {
  const procedure = document.querySelector("form.booking-form #procedure_type_id");
  if (!procedure) {
    return;
  }
  const fields = {region: ["region"], side: ["side"], levels: ["levels_count", "levels"]};
  const required = new Set(["region", "side", "levels_count"]);
  function showQuestions() {
    const option = procedure.options[procedure.selectedIndex];
    const asks = (option?.dataset.asks || "").split(" ");
    for (const [question, ids] of Object.entries(fields)) {
      for (const id of ids) {
        const wrapper = document.getElementById(id)?.closest("[class*=col-]");
        if (wrapper) {
          const asked = asks.includes(question);
          wrapper.hidden = Boolean(option?.value) && !asked;
          // The asterisk of a required field (the procedure asks, so the booking needs it).
          wrapper.querySelector(".mb-3")?.classList.toggle("required", asked && required.has(id));
        }
      }
    }
  }
  procedure.addEventListener("change", showQuestions);
  showQuestions();
});

// Day board: keeps itself current, every minute and when its tab comes back, without throwing away
// what someone is doing on it. The server sends the list again only when it changed (the list's
// digest is its ETag); while a field on it has the cursor or holds something typed, it waits.
function setUpBoardRefresh(list) {
  const EVERY_MS = 60000;
  const note = document.getElementById("board-live");
  let current = list;
  let fetching = false;
  let leaving = false;

  function isTypedInto(field) {
    if (field.type === "checkbox" || field.type === "radio") {
      return field.checked !== field.defaultChecked;
    }
    if (field.tagName === "SELECT") {
      return Array.from(field.options).some((option) => option.selected !== option.defaultSelected);
    }
    return field.value !== field.defaultValue;
  }

  function isInUse() {
    const active = document.activeElement;
    if (active && current.contains(active) && active.matches("input, select, textarea")) {
      return true;
    }
    return Array.from(current.querySelectorAll("input:not([type=hidden]), select, textarea")).some(isTypedInto);
  }

  function say(text) {
    if (note && note.textContent !== text) {
      note.textContent = text;
    }
    if (note) {
      note.hidden = false;
    }
  }

  // The link or button that had the cursor keeps it in the new list (a keyboard user's place).
  function replace(fresh) {
    const active = document.activeElement;
    const keyOf = (element) => element.getAttribute("aria-label") || element.getAttribute("href");
    const focused = active && current.contains(active) ? keyOf(active) : null;
    current.replaceWith(fresh);
    current = fresh;
    if (focused) {
      const again = Array.from(fresh.querySelectorAll("a, button")).find((element) => keyOf(element) === focused);
      again?.focus();
    }
  }

  async function refresh() {
    if (fetching || leaving || document.hidden) {
      return;
    }
    if (isInUse()) {
      say("Not updated while you fill in a form on the board: it updates again once the form is sent or cleared.");
      return;
    }
    fetching = true;
    try {
      const response = await fetch(current.dataset.refreshUrl, {
        credentials: "same-origin", redirect: "manual", cache: "no-store",
        headers: {"If-None-Match": `"${current.dataset.digest}"`},
      });
      if (response.status === 200) {
        const template = document.createElement("template");
        template.innerHTML = await response.text();
        const fresh = template.content.getElementById(current.id);
        if (fresh && !leaving && !isInUse()) {
          replace(fresh);
        }
      }
      if (response.status === 200 || response.status === 304) {
        say("This board updates itself every minute.");
      }
      // Anything else (signed out: a redirect) leaves the board as it is; idle.js handles signing out.
    } catch {
      // Offline for a moment: the next minute tries again.
    } finally {
      fetching = false;
    }
  }

  // A form sent from the board is on its way to another page: nothing more to refresh.
  document.addEventListener("submit", (event) => {
    if (!event.defaultPrevented) {
      leaving = true;
    }
  });
  window.addEventListener("focus", refresh);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) {
      refresh();
    }
  });
  setInterval(refresh, EVERY_MS);
  say("This board updates itself every minute.");
}

document.addEventListener("DOMContentLoaded", () => {
  const board = document.getElementById("board-list");
  if (board && board.dataset.refreshUrl) {
    setUpBoardRefresh(board);
  }
});
