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
 * - Kept pages belong to the session that fetched them (see "kept pages
 *   belong to one session" below and docs/security.md): another person, a
 *   sign-out, a revoked or expired session never reads them.
 * - A new release installs and activates at once. Queued reports are in
 *   IndexedDB, which no release touches; kept pages are fetched again so
 *   they point at the new shell, and the pages open at activation are kept
 *   too (on a first visit they loaded before any worker could see them).
 * - Background Sync ("outbox") sends queued reports while no page is open,
 *   and tells the open pages what arrived (message "outbox-sent").
 * - A page shown to nobody signed in tells the worker to forget the kept
 *   pages (message "forget"), as the sign-in page's own answer does.
 * - Web Push (portal/notifications/push.py): each message is a notification
 *   ({title, body, url, tag}); a tap opens its page, in a window of the
 *   portal already open when there is one.
 */
"use strict";

var VERSION = "__VERSION__";
var SHELL = __SHELL__;
var SHELL_CACHE = "shell-" + VERSION;
var PAGES_PREFIX = "pages-";
var OFFLINE_URL = "/offline";
var NETWORK_TIMEOUT_MS = 6000;
// What the server says on every page response (tenants/offline.py).
var SESSION_HEADER = "x-portal-session";
var LIFETIME_HEADER = "x-portal-session-expires-in";
var NOBODY = "none";
// Where the worker remembers the current session (IndexedDB, outbox-core.js):
// a worker is stopped and started again at the browser's will.
var SESSION_META = "kept-pages-session";
var LOGIN_PATH = "/login";
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

// -- kept pages belong to one session ---------------------------------------
//
// Each session's pages live in their own cache, named by the opaque key the
// server gives that session ("pages-<key>"). The worker reads only the cache
// of the current session, and only until that session's end; a response
// naming another session (someone else signed in), nobody (signed out,
// revoked, expired: the sign-in page), or a 401 drops the kept pages. A 403
// is not one of them: to someone signed in it says "not allowed here", and
// it names its session like any other page.
// Every change of what is kept goes through one queue, in the order the
// requests were made: an answer to an older request never brings back a
// session a newer answer has ended.

var queue = Promise.resolve();
function serially(work) {
  var next = queue.then(work);
  queue = next.catch(function () {});
  return next;
}

function pagesCache(key) { return PAGES_PREFIX + key; }

function dropPages(exceptKey) {
  return caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf(PAGES_PREFIX) === 0 && name !== (exceptKey ? pagesCache(exceptKey) : null);
    }).map(function (name) { return caches.delete(name); }));
  });
}

function currentSession() {
  return self.PortalOutbox.getMeta(SESSION_META).then(function (session) {
    return session || { key: null, expires: 0, since: 0 };
  });
}

/* What one response says about the session: {key, expires} for a signed-in
 * person, {key: null} for nobody (or a 401), or null when it says nothing
 * (a response the server did not mark, such as an outage page). */
function sessionOf(response) {
  if (response.status === 401) return { key: null, expires: 0 };
  if (response.redirected && new URL(response.url).pathname === LOGIN_PATH) return { key: null, expires: 0 };
  var key = response.headers.get(SESSION_HEADER);
  if (!key) return null;
  if (key === NOBODY) return { key: null, expires: 0 };
  var seconds = Number(response.headers.get(LIFETIME_HEADER));
  // No lifetime, nothing to bound the copies by: keep none.
  return { key: key, expires: seconds > 0 ? Date.now() + seconds * 1000 : 0 };
}

/* Navigations under way, each until its page is in place (or it gave no
 * page: a download, a cancel), at most LANDING_MS. */
var LANDING_MS = 15000;
var navigations = [];
function underWay(event) {
  if (!event.resultingClientId) return;
  var landed = Promise.race([
    self.clients.get(event.resultingClientId),
    new Promise(function (resolve) { setTimeout(resolve, LANDING_MS); }),
  ]).catch(function () {}).then(function () {
    navigations = navigations.filter(function (other) { return other !== landed; });
  });
  navigations.push(landed);
}

/* Tell the open pages a session ended and which is current now (null:
 * nobody): a page drawn for another session, from a kept copy when a weak
 * network answered late, is loaded again from the server. Told only once
 * the navigations under way have landed: the page a navigation leaves would
 * otherwise reload and abort it (the news often comes with that very
 * navigation's answer, and its own page is drawn for the current session). */
function announceEnd(key) {
  return Promise.all(navigations).then(function () {
    return self.clients.matchAll({ type: "window" });
  }).then(function (windows) {
    windows.forEach(function (client) { client.postMessage({ type: "session-ended", key: key }); });
  });
}

/* Learn from a response to a request sent at `sentAt`, and keep it under
 * its session when it is a page to keep. Resolves when done. */
function learn(response, url, sentAt) {
  var said = sessionOf(response);
  if (!said) return Promise.resolve();
  var keep = kept(url) && !url.search && response.status === 200 && !response.redirected && response.type === "basic";
  var copy = keep ? response.clone() : null;
  return serially(function () {
    return currentSession().then(function (session) {
      // Older news than what the worker already knows changes nothing,
      // and is kept only if it is the current session's own page.
      if (sentAt < session.since) {
        return copy && said.key && said.key === session.key && Date.now() < session.expires
          ? caches.open(pagesCache(said.key)).then(function (cache) { return cache.put(url.pathname, copy); }).then(function () { return false; })
          : false;
      }
      var ended = Boolean(session.key && session.key !== said.key);
      return self.PortalOutbox.setMeta(SESSION_META, { key: said.key, expires: said.expires, since: sentAt }).then(function () {
        return dropPages(said.key);
      }).then(function () {
        if (copy && said.key && Date.now() < said.expires) {
          return caches.open(pagesCache(said.key)).then(function (cache) { return cache.put(url.pathname, copy); });
        }
        return null;
      }).then(function () { return ended; });
    });
  }).then(function (ended) {
    // Outside the queue: waiting for navigations to land must not hold up
    // the kept copy one of them may be waiting for.
    return ended ? announceEnd(said.key) : null;
  });
}

/* The current session's kept copy of a page, while that session lasts. */
function keptCopy(url) {
  return serially(function () {
    return currentSession().then(function (session) {
      if (!session.key) return undefined;
      if (Date.now() >= session.expires) {
        // The session is over even if no server said so (the phone was
        // offline): its pages go.
        return self.PortalOutbox.setMeta(SESSION_META, { key: null, expires: 0, since: session.since }).then(function () {
          return dropPages(null);
        }).then(function () { return undefined; });
      }
      return caches.match(url.pathname, { cacheName: pagesCache(session.key) });
    });
  });
}

function forget() {
  return serially(function () {
    return self.PortalOutbox.setMeta(SESSION_META, { key: null, expires: 0, since: Date.now() }).then(function () {
      return dropPages(null);
    });
  });
}

function refreshPages() {
  return currentSession().then(function (session) {
    if (!session.key) return dropPages(null);
    return caches.open(pagesCache(session.key)).then(function (cache) {
      return cache.keys();
    }).then(function (requests) {
      return Promise.all(requests.map(function (request) {
        return keep(request.url).catch(function () {});
      }));
    });
  });
}

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        // "pages": the one cache of every session, before kept pages were
        // bound to their session.
        return (name.indexOf("shell-") === 0 && name !== SHELL_CACHE) || name === "pages";
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
    return Promise.all(windows.map(function (client) {
      var url = new URL(client.url);
      if (url.origin !== self.location.origin || !kept(url) || url.search) return null;
      return keep(url.href).catch(function () {});
    }));
  });
}

/* Fetch a page and keep it under the session its answer names. */
function keep(href) {
  var sentAt = Date.now();
  return fetch(href, { credentials: "same-origin" }).then(function (response) {
    return learn(response, new URL(href), sentAt).then(function () { return response; });
  });
}

function fromShell(request) {
  return caches.match(request, { cacheName: SHELL_CACHE }).then(function (hit) {
    return hit || fetch(request);
  });
}

function offlinePage() {
  return caches.match(OFFLINE_URL, { cacheName: SHELL_CACHE });
}

function page(event, request, url) {
  var sentAt = Date.now();
  var network = fetch(request);
  // Asked for now, while the event can still be extended: the answer may
  // come after the kept copy has answered the page (a weak network).
  // Registered first, so learn() copies the answer before the page reads it.
  event.waitUntil(network.then(function (response) { return learn(response, url, sentAt); }).catch(function () {}));
  if (!kept(url)) {
    return network.catch(offlinePage);
  }
  var copy = keptCopy(url);
  // On a weak network the kept copy answers after a few seconds; the
  // network answer still refreshes it for next time, and if it says the
  // session has ended the page drawn from the copy is told (announceEnd).
  var timeout = new Promise(function (resolve) {
    setTimeout(function () {
      // Asked again: the session may have ended while the network was slow.
      keptCopy(url).then(function (hit) { if (hit) resolve(hit); });
    }, NETWORK_TIMEOUT_MS);
  });
  var fallback = network.catch(function () {
    return copy.then(function (hit) { return hit || offlinePage(); });
  });
  return Promise.race([fallback, timeout]);
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  // Every navigation, a form's POST too: a reload would abort it as well.
  if (request.mode === "navigate") underWay(event);
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(fromShell(request));
  } else if (request.mode === "navigate") {
    event.respondWith(page(event, request, url));
  }
});

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "precache" && Array.isArray(data.urls)) {
    event.waitUntil(Promise.all(data.urls.map(function (path) {
      var url = new URL(path, self.location.origin);
      if (url.origin !== self.location.origin || !kept(url)) return null;
      return keep(url.href).catch(function () {});
    })));
  } else if (data.type === "forget") {
    event.waitUntil(forget());
  }
});

self.addEventListener("sync", function (event) {
  if (event.tag === "outbox") {
    event.waitUntil(self.PortalOutbox.flush(null).then(function (results) {
      var sent = results.filter(function (result) { return result.outcome === "ok"; }).map(function (result) {
        return { id: result.item.id || null, kind: result.item.kind || null, page: result.item.page || null };
      });
      // The open pages draw what arrived (a thread, an NCR step), as they
      // would had they sent it themselves.
      var told = sent.length ? self.clients.matchAll({ type: "window" }).then(function (windows) {
        windows.forEach(function (client) { client.postMessage({ type: "outbox-sent", sent: sent }); });
      }) : Promise.resolve();
      return told.then(function () {
        var stuck = results.some(function (result) { return result.outcome === "later"; });
        // Rejecting asks the browser to try the sync again later.
        if (stuck) throw new Error("outbox not empty");
      });
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
