// The companion's service worker: keeps the day's pages for when the phone is offline.
// Pages are fetched from the network first; a copy of each is kept and shown offline.
const CACHE = "companion-v1";

self.addEventListener("install", (event) => {
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    return;  // writes are queued by the page itself (companion.js)
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  const isPage = url.pathname.startsWith("/p/") && !url.pathname.endsWith(".ics");
  const isAsset = url.pathname.startsWith("/static/companion");
  if (!isPage && !isAsset) {
    return;
  }
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(request, copy));
        } else if (response.status === 404 && isPage) {
          // the link was revoked, replaced or has ended: keep nothing of it on the phone
          caches.delete(CACHE);
        }
        return response;
      })
      .catch(() =>
        caches.open(CACHE).then((cache) =>
          cache.match(request, { ignoreSearch: true }).then((hit) => hit || Response.error())
        )
      )
  );
});
