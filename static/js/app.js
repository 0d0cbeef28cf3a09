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

// ---- Record pages: one fact edited in place ----------------------------------------------
// A fact's form (records/field_edit.html) saves on Enter, as any form does. Esc cancels it,
// as its Cancel link does: htmx brings the fact back as it was.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || event.defaultPrevented) return;
  const cancel = event.target.closest?.(".fact-form")?.querySelector("[data-fact-cancel]");
  if (!cancel) return;
  event.preventDefault();
  cancel.click();
});
