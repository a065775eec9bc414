// Progressive enhancement only: every page works without this file.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.dataset ? form.dataset.confirm : null;
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  // One click, one submission: disable the buttons of a form once it is on its way.
  if (!event.defaultPrevented) {
    window.setTimeout(() => {
      form.querySelectorAll("button[type=submit]").forEach((b) => { b.disabled = true; });
    }, 0);
  }
});

// A page restored from the back/forward cache gets its buttons back.
window.addEventListener("pageshow", () => {
  document.querySelectorAll("button[type=submit]:disabled").forEach((b) => { b.disabled = false; });
});

// A form shown again with errors starts at the first field to fix, not at the autofocus field.
const firstInvalid = document.querySelector("[aria-invalid=true]");
if (firstInvalid) {
  firstInvalid.focus();
}
