// The command palette (components/_quick_search.html): Ctrl-K or ⌘-K anywhere, or the top
// bar's search, opens a modal <dialog>. Its input asks the find view, through htmx, for a
// listbox of records, pages and actions; the arrow keys move the active option
// (aria-activedescendant), Enter or a click opens it, Esc closes and focus goes back.
// Without JavaScript the top bar's search is a plain form to the find page.
(() => {
  const dialog = document.getElementById("palette");
  if (!dialog) return; // a page outside an organisation: nothing to search

  const input = document.getElementById("palette-q");
  const results = document.getElementById("palette-results");
  const status = document.getElementById("palette-status");
  let opener = null;

  // Show the shortcut as the keyboard labels it.
  const platform = (navigator.userAgentData && navigator.userAgentData.platform) || navigator.platform || "";
  if (/Mac|iPhone|iPad/.test(platform)) {
    for (const hint of document.querySelectorAll("[data-palette-shortcut]")) hint.textContent = "⌘K";
  }

  const options = () => Array.from(results.querySelectorAll('[role="option"]'));
  const active = () => results.querySelector('[role="option"][aria-selected="true"]');

  function activate(option) {
    for (const other of options()) other.setAttribute("aria-selected", "false");
    if (option) {
      option.setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function move(step) {
    const all = options();
    if (!all.length) return;
    const at = all.indexOf(active());
    activate(all[(at + step + all.length) % all.length]);
  }

  function open(term) {
    if (dialog.open) {
      input.focus();
      input.select();
      return;
    }
    opener = document.activeElement;
    input.value = term;
    results.replaceChildren();
    activate(null);
    input.setAttribute("aria-expanded", "false");
    dialog.showModal();
    input.focus();
    // htmx asks for the options of what is in the input (with nothing, pages and actions).
    input.dispatchEvent(new Event("palette-open"));
  }

  document.addEventListener("keydown", (event) => {
    // Ctrl-K is ours, from inside inputs too; a handler that claimed it first keeps it.
    if (event.defaultPrevented || event.isComposing || event.altKey || event.shiftKey) return;
    // (Chrome's autofill sends keydown events without a key.)
    if (!(event.ctrlKey || event.metaKey) || (event.key || "").toLowerCase() !== "k") return;
    event.preventDefault();
    open("");
  });

  for (const control of document.querySelectorAll("[data-palette-opener]")) {
    control.addEventListener("click", (event) => {
      event.preventDefault();
      open("");
    });
    if (control.tagName !== "INPUT") continue;
    // Typing into the top bar's search carries on in the palette.
    control.addEventListener("input", () => {
      const term = control.value;
      control.value = "";
      open(term);
    });
    control.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown") {
        event.preventDefault();
        open(control.value);
      }
    });
    control.form.addEventListener("submit", (event) => {
      event.preventDefault();
      open(control.value);
    });
  }

  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      move(event.key === "ArrowDown" ? 1 : -1);
    } else if (event.key === "Enter" && active()) {
      // Otherwise Enter sends the form: the find page, with every result.
      event.preventDefault();
      if (event.ctrlKey || event.metaKey) window.open(active().href, "_blank", "noopener");
      else window.location.assign(active().href);
    }
  });

  results.addEventListener("mousemove", (event) => {
    const option = event.target.closest('[role="option"]');
    if (option && option !== active()) activate(option);
  });

  dialog.addEventListener("htmx:afterSwap", () => {
    const all = options();
    input.setAttribute("aria-expanded", String(all.length > 0));
    activate(all[0] || null);
    status.textContent = all.length === 1 ? "1 result" : `${all.length} results`;
  });

  dialog.querySelector("[data-palette-close]").addEventListener("click", () => dialog.close());

  // A click on the backdrop (the dialog itself, outside its content) closes it.
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();
  });

  dialog.addEventListener("close", () => {
    if (opener && opener.isConnected) opener.focus();
    opener = null;
  });
})();
