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

// The plan editor offers only the dose fields an exercise uses: choosing another exercise
// shows and hides them at once (the server ignores fields an exercise does not use anyway).
document.querySelectorAll("form.editor[data-params]").forEach((form) => {
  const params = JSON.parse(form.dataset.params);
  form.addEventListener("change", (event) => {
    const select = event.target;
    if (!select.name || !select.name.endsWith("-exercise")) return;
    const used = params[select.value] || [];
    const row = select.closest("tr");
    const prefix = select.name.slice(0, -"exercise".length);
    ["hold_s", "rest_s", "reps", "sets", "sessions_per_day", "effort_pct"].forEach((name) => {
      const input = row.querySelector(`[name="${prefix}${name}"]`);
      if (!input) return;
      const cell = input.closest("td");
      const on = used.includes(name);
      input.disabled = !on;
      input.hidden = !on;
      cell.classList.toggle("unused", !on);
      const dash = cell.querySelector("span.muted");
      if (dash) dash.hidden = on;
    });
  });
});
