// Keyboard shortcuts for the review list (/admin/review). The page works without this
// script: every action is a button in a plain form. j/k move between the messages;
// a, 1-3 and x press the message's buttons with that data-key.
(function () {
  "use strict";
  const items = Array.from(document.querySelectorAll(".review-item"));
  if (!items.length) return;

  function current() {
    const active = document.activeElement;
    const inside = active && active.closest ? active.closest(".review-item") : null;
    return inside || null;
  }

  function focusItem(item) {
    if (!item) return;
    item.focus();
    item.scrollIntoView({ block: "center" });
  }

  // After filing a message the page comes back at the next one (#granska-<id>).
  const fromHash = location.hash ? document.getElementById(location.hash.slice(1)) : null;
  focusItem(fromHash && fromHash.classList.contains("review-item") ? fromHash : null);

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const target = event.target;
    if (target && /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName)) return;
    const item = current();
    const index = item ? items.indexOf(item) : -1;
    if (event.key === "j") {
      focusItem(items[Math.min(items.length - 1, index + 1)]);
      event.preventDefault();
    } else if (event.key === "k") {
      focusItem(items[Math.max(0, index - 1)]);
      event.preventDefault();
    } else if (item && /^[ax123]$/.test(event.key)) {
      const button = item.querySelector('button[data-key="' + event.key + '"]');
      if (button) {
        button.click();
        event.preventDefault();
      }
    }
  });
})();
