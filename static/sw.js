/* The portal's service worker, served at /sw.js by portal/pwa.py, which
 * writes in the release's version and the app shell's hashed URLs.
 *
 * - App shell (CSS, scripts, icons, the offline page): cached at install,
 *   served from the cache (their URLs change with their content).
 * - The supplier's pages (home, open work, report screens, orders, NCRs):
 *   network first, a copy kept for reading offline; with no network and no
 *   copy, the offline page. Pages named by the open-work list are fetched
 *   ahead (message "precache"), so a report screen opens offline even if it
 *   was never visited.
 * - A new release installs and activates at once. Queued reports are in
 *   IndexedDB, which no release touches; kept pages are fetched again so
 *   they point at the new shell, and the pages open at activation are kept
 *   too (on a first visit they loaded before any worker could see them).
 * - Background Sync ("outbox") sends queued reports while no page is open.
 * - After sign-out the pages tell the worker to forget the kept pages.
 * - Web Push (portal/notifications/push.py): each message is a notification
 *   ({title, body, url, tag}); a tap opens its page, in a window of the
 *   portal already open when there is one.
 */
"use strict";

var VERSION = "__VERSION__";
var SHELL = __SHELL__;
var SHELL_CACHE = "shell-" + VERSION;
var PAGES_CACHE = "pages";
var OFFLINE_URL = "/offline";
var NETWORK_TIMEOUT_MS = 6000;
var UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
var KEPT_PAGES = [
  new RegExp("^/$"),
  new RegExp("^/inbox/?$"),
  new RegExp("^/progress/?$"),
  new RegExp("^/progress/lines/" + UUID + "$"),
  new RegExp("^/orders/" + UUID + "$"),
  // An NCR opened once can be answered offline (its answer waits in the outbox).
  new RegExp("^/ncrs/" + UUID + "$"),
];

importScripts(SHELL.filter(function (url) { return url.indexOf("/js/outbox-core.js") !== -1; })[0]);

function kept(url) {
  return KEPT_PAGES.some(function (pattern) { return pattern.test(url.pathname); });
}

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL_CACHE).then(function (cache) {
      return cache.addAll(SHELL);
    }).then(function () {
      return self.skipWaiting();
    })
  );
});

function refreshPages() {
  return caches.open(PAGES_CACHE).then(function (cache) {
    return cache.keys().then(function (requests) {
      return Promise.all(requests.map(function (request) {
        return keep(cache, request.url).catch(function () {});
      }));
    });
  });
}

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("shell-") === 0 && name !== SHELL_CACHE;
      }).map(function (name) { return caches.delete(name); }));
    }).then(refreshPages).then(function () {
      return self.clients.claim();
    }).then(keepOpenPages)
  );
});

/* The pages open when this worker takes control were loaded before it could
 * see them (a first visit): keep them now, or reloading one offline would
 * show the offline page instead of what the person just saw. */
function keepOpenPages() {
  return self.clients.matchAll({ type: "window" }).then(function (windows) {
    return caches.open(PAGES_CACHE).then(function (cache) {
      return Promise.all(windows.map(function (client) {
        var url = new URL(client.url);
        if (url.origin !== self.location.origin || !kept(url) || url.search) return null;
        return keep(cache, url.href).catch(function () {});
      }));
    });
  });
}

/* Fetch a page and keep it, unless it is not the page asked for (signed
 * out: a redirect to the sign-in page) or an error. */
function keep(cache, url) {
  return fetch(url, { credentials: "same-origin", redirect: "manual" }).then(function (response) {
    if (response.status === 200 && response.type === "basic") {
      return cache.put(new URL(url).pathname, response.clone()).then(function () { return response; });
    }
    return response;
  });
}

function fromShell(request) {
  return caches.match(request).then(function (hit) {
    return hit || fetch(request);
  });
}

function page(request, url) {
  var network = fetch(request).then(function (response) {
    if (kept(url) && response.status === 200 && !response.redirected && !url.search) {
      var copy = response.clone();
      caches.open(PAGES_CACHE).then(function (cache) { return cache.put(url.pathname, copy); });
    }
    return response;
  });
  if (!kept(url)) {
    return network.catch(function () { return caches.match(OFFLINE_URL); });
  }
  var copy = caches.match(url.pathname);
  // On a weak network the kept copy answers after a few seconds; the
  // network answer still refreshes it for next time.
  var timeout = new Promise(function (resolve) {
    setTimeout(function () { copy.then(function (hit) { if (hit) resolve(hit); }); }, NETWORK_TIMEOUT_MS);
  });
  var fallback = network.catch(function () {
    return copy.then(function (hit) { return hit || caches.match(OFFLINE_URL); });
  });
  return Promise.race([fallback, timeout]);
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(fromShell(request));
  } else if (request.mode === "navigate") {
    event.respondWith(page(request, url));
  }
});

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "precache" && Array.isArray(data.urls)) {
    event.waitUntil(caches.open(PAGES_CACHE).then(function (cache) {
      return Promise.all(data.urls.map(function (path) {
        var url = new URL(path, self.location.origin);
        if (url.origin !== self.location.origin || !kept(url)) return null;
        return keep(cache, url.href).catch(function () {});
      }));
    }));
  } else if (data.type === "forget") {
    event.waitUntil(caches.delete(PAGES_CACHE));
  }
});

self.addEventListener("sync", function (event) {
  if (event.tag === "outbox") {
    event.waitUntil(self.PortalOutbox.flush(null).then(function (results) {
      var stuck = results.some(function (result) { return result.outcome === "later"; });
      // Rejecting asks the browser to try the sync again later.
      if (stuck) throw new Error("outbox not empty");
    }));
  }
});

self.addEventListener("push", function (event) {
  var data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = { title: event.data ? event.data.text() : "" };
  }
  event.waitUntil(self.registration.showNotification(data.title || "", {
    body: data.body || "",
    tag: data.tag,
    icon: SHELL.filter(function (url) { return url.indexOf("/img/icon-192.png") !== -1; })[0],
    data: { url: data.url || "/notifications" },
  }));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url = new URL((event.notification.data || {}).url || "/notifications", self.location.origin);
  // Only the portal's own pages: a message never sends the person elsewhere.
  if (url.origin !== self.location.origin) url = new URL("/notifications", self.location.origin);
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
    for (var i = 0; i < windows.length; i++) {
      if ("navigate" in windows[i]) {
        return windows[i].focus().then(function (client) { return client.navigate(url.href); });
      }
    }
    return self.clients.openWindow(url.href);
  }));
});
