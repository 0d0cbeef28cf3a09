// The deal board (templates/sales/board.html): drag a card onto another column to move the
// deal. A drop posts what the card's own "Move" form posts (the deal, the stage the card was
// in, the stage it was dropped on) through htmx, which swaps #board back with its totals and
// what happened. Without a mouse, or without JavaScript, that form does the same.
(() => {
  let dragged = null;
  const placeholder = document.createElement("li");
  placeholder.className = "board-card board-card--placeholder";
  placeholder.setAttribute("aria-hidden", "true");

  // The whole column takes a drop, its header too: the card goes into its list.
  function cardsOf(node) {
    const column = node && node.closest ? node.closest(".board-column") : null;
    return column ? column.querySelector(".board-column__cards") : null;
  }

  function clear() {
    placeholder.remove();
    for (const column of document.querySelectorAll(".board-column.is-over")) {
      column.classList.remove("is-over");
    }
    if (dragged) dragged.classList.remove("is-dragging");
    dragged = null;
  }

  // Where the card would land: before the first card whose middle is below the pointer, else
  // at the end (before the column's "Show more").
  function place(list, y) {
    const cards = [...list.querySelectorAll(".board-card:not(.is-dragging):not(.board-card--placeholder)")];
    const before = cards.find((card) => {
      const box = card.getBoundingClientRect();
      return y < box.top + box.height / 2;
    });
    const anchor = before || list.querySelector(".board-column__more");
    if (anchor) {
      if (placeholder.nextElementSibling !== anchor) list.insertBefore(placeholder, anchor);
    } else if (placeholder.parentNode !== list || placeholder.nextElementSibling) {
      list.appendChild(placeholder);
    }
  }

  document.addEventListener("dragstart", (event) => {
    const card = event.target.closest ? event.target.closest(".board-card[data-deal]") : null;
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.deal);
    // After the browser has taken its picture of the card, not before.
    requestAnimationFrame(() => card.classList.add("is-dragging"));
  });

  document.addEventListener("dragover", (event) => {
    const list = cardsOf(event.target);
    if (!dragged || !list) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    const column = list.closest(".board-column");
    for (const other of document.querySelectorAll(".board-column.is-over")) {
      if (other !== column) other.classList.remove("is-over");
    }
    column.classList.add("is-over");
    place(list, event.clientY);
  });

  document.addEventListener("drop", (event) => {
    const list = cardsOf(event.target);
    if (!dragged || !list) return;
    event.preventDefault();
    const card = dragged;
    const from = card.dataset.stage;
    const to = list.dataset.stage;
    if (from !== to) {
      placeholder.replaceWith(card); // where it was dropped, until the board comes back
      move(card, from, to);
    }
    clear();
  });

  document.addEventListener("dragend", clear);

  function move(card, from, to) {
    const board = document.getElementById("board");
    if (!board || !window.htmx) return;
    // The source is the board: htmx sends body's hx-headers (the CSRF token) with it.
    window.htmx.ajax("POST", board.dataset.moveUrl, {
      source: board,
      target: "#board",
      swap: "outerHTML",
      values: { deal: card.dataset.deal, from_stage: from, stage: to },
    });
  }

  // A refused move (409: the deal moved or went meanwhile; 400: a stage it cannot go to)
  // comes back as the board as it is now, with the reason above it: show it.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const status = event.detail.xhr.status;
    const target = event.detail.target;
    if ((status === 409 || status === 400) && target && target.id === "board") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // Escape closes an open "Move" form and gives focus back to its button.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const open = event.target.closest ? event.target.closest(".board-card__move[open]") : null;
    if (!open) return;
    open.open = false;
    open.querySelector("summary").focus();
  });
})();
