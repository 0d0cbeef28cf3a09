// The account menu is a <details class="menu">: it opens and closes without JavaScript.
// These listeners add what a real menu does: close on a click outside it or on Escape.
document.addEventListener("click", (event) => {
  for (const menu of document.querySelectorAll("details.menu[open]")) {
    if (!menu.contains(event.target)) menu.open = false;
  }
});

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  for (const menu of document.querySelectorAll("details.menu[open]")) {
    const hadFocus = menu.contains(document.activeElement);
    menu.open = false;
    if (hadFocus) menu.querySelector("summary").focus();
  }
});

// ---- Lists: the bulk bar ---------------------------------------------------------------
// CSS raises the bar once a row is checked; this counts the rows, offers "select the whole
// page", shows only the chosen action's value field, and clears the selection.
function bulkForm(node) {
  return node && node.closest ? node.closest(".bulk-form") : null;
}

function syncBulk(form) {
  if (!form) return;
  const boxes = [...form.querySelectorAll('td.col-check input[name="ids"]')];
  const checked = boxes.filter((box) => box.checked).length;
  const count = form.querySelector("[data-selected-count]");
  if (count) count.textContent = String(checked);
  const page = form.querySelector("[data-select-page]");
  if (page) {
    page.hidden = false;
    page.checked = boxes.length > 0 && checked === boxes.length;
    page.indeterminate = checked > 0 && checked < boxes.length;
  }
  const clear = form.querySelector("[data-clear-selection]");
  if (clear) clear.hidden = false;
  const action = form.querySelector("[data-bulk-action]");
  if (action) {
    const wanted = action.selectedOptions[0]?.dataset.field || "";
    for (const field of form.querySelectorAll("[data-bulk-field]")) {
      field.hidden = field.dataset.bulkField !== wanted;
    }
  }
}

function syncAllBulk() {
  for (const form of document.querySelectorAll(".bulk-form")) syncBulk(form);
}

document.addEventListener("change", (event) => {
  const form = bulkForm(event.target);
  if (!form) return;
  if (event.target.matches("[data-select-page]")) {
    for (const box of form.querySelectorAll('td.col-check input[name="ids"]')) {
      box.checked = event.target.checked;
    }
  }
  syncBulk(form);
});

document.addEventListener("click", (event) => {
  const clear = event.target.closest("[data-clear-selection]");
  if (!clear) return;
  const form = bulkForm(clear);
  for (const box of form.querySelectorAll('td.col-check input[name="ids"]')) box.checked = false;
  syncBulk(form);
});

document.addEventListener("DOMContentLoaded", syncAllBulk);
document.addEventListener("htmx:afterSettle", syncAllBulk);

// ---- Keyboard shortcuts -----------------------------------------------------------------
// "/" searches, j and k move through a list's rows (focusing the row's link, so that Enter
// opens it), x selects the row, e edits the record, c creates one, ? lists them all. They
// never fire while typing in a field, or with Ctrl, Alt or Meta held.
const NOT_TYPED = ["checkbox", "radio", "button", "submit", "reset"];

function typing(target) {
  if (target.matches("input")) return !NOT_TYPED.includes(target.type);
  return target.closest("textarea, select, [contenteditable='true'], dialog[open]") !== null;
}

function listRows() {
  return [...document.querySelectorAll("[data-list] tbody tr")].filter((row) => row.offsetParent);
}

function activeRow() {
  return document.querySelector("[data-list] tbody tr.is-active");
}

function moveRow(step) {
  const rows = listRows();
  if (!rows.length) return;
  const current = rows.indexOf(activeRow());
  const next = rows[Math.min(Math.max(current + step, 0), rows.length - 1)];
  if (current === -1 && step < 0) return;
  for (const row of rows) row.classList.remove("is-active");
  next.classList.add("is-active");
  const link = next.querySelector("td:not(.col-check) a[href]");
  (link || next).focus({ preventScroll: true });
  next.scrollIntoView({ block: "nearest" });
}

function follow(selector) {
  const target = document.querySelector(selector);
  if (!target) return false;
  if (target.matches("input, textarea, select")) {
    const folded = target.closest("details:not([open])");
    if (folded) folded.open = true; // a composer folded away opens to take the focus
    target.focus();
    target.select?.();
  } else {
    target.click();
  }
  return true;
}

const SHORTCUTS = {
  "/": () => follow('[data-shortcut="search"]'),
  // On a ticket's page, with no list to move in: the next ticket to work.
  j: () => (listRows().length ? (moveRow(1), true) : follow('[data-shortcut="next"]')),
  k: () => (listRows().length ? (moveRow(-1), true) : false),
  x: () => {
    const box = activeRow()?.querySelector('td.col-check input[type="checkbox"]');
    if (!box) return false;
    box.click();
    return true;
  },
  e: () => follow('[data-shortcut="edit"]'),
  c: () => follow('[data-shortcut="create"]'),
  // A ticket's page: reply, note, assign to me, solve.
  r: () => follow('[data-shortcut="reply"]'),
  n: () => follow('[data-shortcut="note"]'),
  a: () => follow('[data-shortcut="take"]'),
  s: () => follow('[data-shortcut="solve"]'),
  "?": () => {
    const dialog = document.getElementById("shortcuts");
    if (!dialog) return false;
    dialog.showModal();
    return true;
  },
};

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
  if (typing(event.target)) return;
  const run = SHORTCUTS[event.key];
  if (run && run()) event.preventDefault();
});

// Closing the shortcuts dialog by its button or a click on its backdrop.
document.addEventListener("click", (event) => {
  const dialog = event.target.closest("dialog.shortcuts");
  if (!dialog) return;
  if (event.target === dialog || event.target.closest("[data-close-dialog]")) dialog.close();
});

// ---- Record pages: one fact edited in place ----------------------------------------------
// A fact's form (records/field_edit.html) saves on Enter, as any form does. Esc cancels it,
// as its Cancel link does: htmx brings the fact back as it was.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || event.defaultPrevented) return;
  const cancel = event.target.closest?.(".fact-form")?.querySelector("[data-fact-cancel]");
  if (!cancel) return;
  event.preventDefault();
  // htmx readies swapped-in content after its settle delay; a key pressed sooner would
  // follow the link's href and load the whole page again.
  if (window.htmx) window.htmx.process(cancel);
  cancel.click();
});
