// The companion's phone pages, enhanced: every page works without this file (plain forms).
// With it: pages are kept for offline use (companion-sw.js); taps and the day's sheet are sent in
// the background, queued while offline and sent when the phone is back online, each with its own
// idempotency key so a retried send is never counted twice; the guided timer and breathing pacer.
(() => {
  const body = document.body;
  const QUEUE = "companion-queue";

  function newKey() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function readQueue() {
    try { return JSON.parse(localStorage.getItem(QUEUE) || "[]"); } catch (e) { return []; }
  }

  function writeQueue(items) {
    localStorage.setItem(QUEUE, JSON.stringify(items));
    showQueued(items.length);
  }

  function showQueued(n) {
    const box = document.querySelector(".queued");
    if (!box) return;
    box.hidden = n === 0;
    box.textContent = n === 0 ? "" : `Saved on this phone: ${n} to send when you are back online.`;
  }

  // What the server said about a write: {ok, counted, full}, or {ok: false, error} when it was
  // refused (a stale page, a day outside the plan: retrying will not help). Throws when the
  // write should wait on the phone and go again later (offline, server trouble, too busy).
  async function send(item) {
    const response = await fetch(item.url, {
      method: "POST",
      headers: { "Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded" },
      body: item.body,
      credentials: "omit",
      referrerPolicy: "no-referrer",
    });
    if (response.status >= 500 || response.status === 429) throw new Error("later");
    let answer = null;
    try { answer = await response.json(); } catch (e) { answer = null; }
    if (!response.ok || !answer || typeof answer !== "object") {
      return { ok: false, error: (answer && answer.error) || "refused" };
    }
    return answer;
  }

  function localDay() {
    const now = new Date();
    const pad = (n) => String(n).padStart(2, "0");
    return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  }

  let flushing = false;
  async function flush() {
    if (flushing) return;
    flushing = true;
    try {
      let items = readQueue();
      while (items.length) {
        const item = items[0];
        try { await send(item); } catch (e) { window.setTimeout(flush, 60000); break; }
        // take off this item only (another tab may have changed the queue meanwhile)
        items = readQueue().filter((other) => other.body !== item.body);
        writeQueue(items);
      }
    } finally {
      flushing = false;
    }
  }

  function dayIsFull() {
    const done = document.querySelector(".done-count");
    const count = document.querySelector("[data-sessions]");
    return Boolean(done && count && Number(done.textContent) >= Number(count.dataset.sessions));
  }

  function bump() {
    const done = document.querySelector(".done-count");
    const count = document.querySelector("[data-sessions]");
    if (!done || !count) return;
    const n = Math.min(Number(done.textContent) + 1, Number(count.dataset.sessions));
    done.textContent = String(n);
    document.querySelectorAll(".ticks li").forEach((li, i) => { li.classList.toggle("ticked", i < n); });
    if (n >= Number(count.dataset.sessions)) {
      document.querySelectorAll(".tap-form button").forEach((b) => { b.disabled = true; });
    }
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.matches(".tap-form, .day-form")) return;
    if (!navigator.onLine && form.matches(".day-form") && !form.checkValidity()) return;
    event.preventDefault();
    // A second tap while the first is on its way is the same tap: the button stays disabled,
    // and the key is replaced only once the first send has settled (answered or queued).
    if (form.dataset.sending) return;
    form.dataset.sending = "1";
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    const keyField = form.querySelector("input[name=key]");
    const isTap = form.matches(".tap-form");
    const fields = new FormData(form);
    if (isTap) fields.set("on", localDay());  // a tap sent later still counts on the day it was made
    const item = { url: form.action, body: new URLSearchParams(fields).toString() };
    const status = document.querySelector(".queued");
    const settled = () => {
      keyField.value = newKey();  // the next tap is a new one
      delete form.dataset.sending;
      if (button) button.disabled = isTap && dayIsFull();
    };
    send(item)
      .then((answer) => {
        if (isTap) {
          if (answer.counted) bump();
          let words = "That session could not be logged. Please open your link again.";
          if (answer.counted) words = "Session logged. Thank you.";
          else if (answer.full) words = "All of today's sessions are logged.";
          else if (answer.ok) words = "That session was logged already.";
          if (status) { status.hidden = false; status.textContent = words; }
        } else if (answer.ok) {
          window.location.href = form.action.replace(/\/day$/, "/week") + "?saved=1";
        } else {
          form.submit();  // let the server show what to fix, beside the field
        }
      })
      .catch(() => {
        writeQueue([...readQueue(), item]);
        if (isTap) bump();
      })
      .finally(settled);
  });

  // A page shown from the offline copy carries the key it was first served with: every form
  // gets a key of its own here, so no two taps ever share one.
  document.querySelectorAll(".tap-form input[name=key], .day-form input[name=key]").forEach((f) => {
    f.value = newKey();
  });

  window.addEventListener("online", flush);
  showQueued(readQueue().length);
  if (navigator.onLine) flush();

  if (body.dataset.worker && "serviceWorker" in navigator) {
    // its scope is the folder it is served from: /p/, or /floorplan/p/ under a path prefix
    navigator.serviceWorker.register(body.dataset.worker).catch(() => {});
  }

  // The guided session: a squeeze-and-rest timer, or a breathing pacer that grows on the
  // in-breath (the pelvic floor softening) and shrinks on the out-breath.
  const guide = document.querySelector(".guide[data-mode]");
  if (guide) {
    const controls = guide.querySelector(".guide-controls");
    controls.hidden = false;
    const cue = guide.querySelector(".cue");
    const repNow = guide.querySelector(".rep-now");
    const work = Number(guide.dataset.work), rest = Number(guide.dataset.rest), reps = Number(guide.dataset.reps);
    const pacer = guide.dataset.mode === "pacer";
    const shape = guide.querySelector(pacer ? ".pacer-shape" : ".squeeze-bar");
    const start = guide.querySelector(".start");
    let audio = null;
    function signal() {
      if (guide.querySelector(".buzz").checked && navigator.vibrate) navigator.vibrate(120);
      if (guide.querySelector(".sound").checked) {
        audio = audio || new (window.AudioContext || window.webkitAudioContext)();
        const osc = audio.createOscillator();
        osc.frequency.value = 440;
        osc.connect(audio.destination);
        osc.start();
        osc.stop(audio.currentTime + 0.15);
      }
    }
    const wait = (s) => new Promise((resolve) => { window.setTimeout(resolve, s * 1000); });
    start.addEventListener("click", async () => {
      start.disabled = true;
      shape.style.transitionDuration = "0s";
      for (let n = 1; n <= reps; n += 1) {
        repNow.textContent = String(n);
        signal();
        shape.style.transitionDuration = `${work}s`;
        shape.classList.add(pacer ? "in" : "on");
        cue.textContent = pacer ? "Breathe in slowly… let your pelvic floor soften" : `Squeeze gently and breathe out… ${work} seconds`;
        await wait(work);
        signal();
        shape.style.transitionDuration = `${rest}s`;
        shape.classList.remove(pacer ? "in" : "on");
        cue.textContent = pacer ? "Breathe out slowly" : `Let go fully and rest… ${rest} seconds`;
        await wait(rest);
      }
      cue.textContent = "Done. Well done.";
      start.disabled = false;
    });
  }
})();
