// The companion's service worker: keeps today's page (and the companion's own files) for when
// the phone is offline. Pages are fetched from the network first. Only today's page, /p/<key>,
// is kept (the other pages show other days, or change as the day goes on); a page shown
// offline is the one asked for, never another day's. A link that answers "not found" (revoked,
// replaced, ended) clears everything kept.
const CACHE = "companion-v2";

self.addEventListener("install", (event) => {
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  // earlier versions kept every page: drop their caches
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim())
  );
});

// Where the companion's pages are: the folder this worker is served from, "/p/", or
// "/floorplan/p/" when the site is served under a path prefix; the site's root is above it.
const PAGES = new URL("./", self.location.href).pathname;
const ROOT = PAGES.slice(0, -"p/".length);

function isTodayPage(url) {
  const rest = url.pathname.slice(PAGES.length);
  return url.pathname.startsWith(PAGES) && rest !== "" && !rest.includes("/") && rest !== "sw.js";
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    return;  // writes are queued by the page itself (companion.js)
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  const isPage = url.pathname.startsWith(PAGES) && url.pathname !== PAGES + "sw.js";
  const isAsset = url.pathname.startsWith(ROOT + "static/companion");
  if (!isPage && !isAsset) {
    return;
  }
  // today's page is kept under its address without the query (?done=1 is only a status line)
  const key = isTodayPage(url) ? url.origin + url.pathname : request.url;
  const keep = isAsset || isTodayPage(url);
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok && keep) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(key, copy));
        } else if (response.status === 404 && isPage) {
          // the link was revoked, replaced or has ended: keep nothing of it on the phone
          caches.delete(CACHE);
        }
        return response;
      })
      .catch(() =>
        keep
          ? caches.open(CACHE).then((cache) => cache.match(key).then((hit) => hit || Response.error()))
          : Response.error()
      )
  );
});
