/* The offline outbox, shared by the pages (outbox.js) and the service
 * worker (sw.js, for Background Sync). No DOM here.
 *
 * A queued report is one IndexedDB record: the form's fields, its photos
 * as compressed blobs, the client id generated when the form was drawn,
 * and how far sending got (the report's server id once stored, which
 * photos arrived). Sending resumes from there; the server stores each
 * report and each photo once, whatever the retries. A record leaves the
 * store only when everything arrived or the user discards it.
 *
 * A queued message (kind "message": a conversation's form, its text, the
 * people mentioned and maybe one photo or file) goes in one request; the
 * server stores it once per client id, so a retry after a lost answer
 * stores nothing new. A supplier's answer to an NCR step (kind "answer":
 * its text and maybe one photo) goes the same way.
 *
 * Every record belongs to the person (in one tenant) who queued it: its
 * "owner", as the page said (body[data-owner]). Only the owner's records
 * are sent, and only while the owner is signed in; each request says whose
 * record it is (x-outbox-owner) and the server refuses one that is not the
 * acting person's (409, x-portal-outbox: not-yours), so a record never
 * lands under another account. Refused that way, it stays for its owner.
 */
(function (scope) {
  "use strict";

  var DB_NAME = "portal-outbox";
  var STORE = "reports";
  var META = "meta";

  function request(req) {
    return new Promise(function (resolve, reject) {
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  var opening = null;
  function open() {
    if (!opening) {
      opening = new Promise(function (resolve, reject) {
        var req = indexedDB.open(DB_NAME, 1);
        req.onupgradeneeded = function () {
          req.result.createObjectStore(STORE, { keyPath: "id" });
          req.result.createObjectStore(META);
        };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { opening = null; reject(req.error); };
      });
    }
    return opening;
  }

  function withStore(name, mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(name, mode);
        var result = work(tx.objectStore(name));
        tx.oncomplete = function () { resolve(result && "result" in result ? result.result : result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error || new Error("aborted")); };
      });
    });
  }

  function all() {
    return withStore(STORE, "readonly", function (store) { return store.getAll(); }).then(function (items) {
      return (items || []).sort(function (a, b) { return a.created - b.created; });
    });
  }
  function get(id) { return withStore(STORE, "readonly", function (store) { return store.get(id); }); }
  // Each page's panel follows the store whoever changed it: its own flush,
  // a retry tapped meanwhile, another tab, the worker's Background Sync.
  // A panel drawn between one sender's put and another's remove would
  // otherwise show a record that has left.
  var CHANNEL = "portal-outbox";
  var changes = typeof BroadcastChannel === "function" ? new BroadcastChannel(CHANNEL) : null;
  function changed(result) {
    if (changes) changes.postMessage("changed");
    return result;
  }
  function onChange(listener) {
    if (typeof BroadcastChannel === "function") new BroadcastChannel(CHANNEL).onmessage = listener;
  }
  function put(item) { return withStore(STORE, "readwrite", function (store) { store.put(item); }).then(changed); }
  function remove(id) { return withStore(STORE, "readwrite", function (store) { store.delete(id); }).then(changed); }
  function getMeta(key) { return withStore(META, "readonly", function (store) { return store.get(key); }); }
  function setMeta(key, value) { return withStore(META, "readwrite", function (store) { store.put(value, key); }); }

  /* The outcome of one request: "ok" (stored, now or before), "refused"
   * (the server said no: it will say no again), "signed-out", "not-mine"
   * (another person is signed in: the record waits for its owner), or
   * "later" (no network, server busy or down: try again). */
  function classify(response) {
    if (response.headers.get("x-portal-outbox") === "not-yours") return "not-mine";
    if (response.type === "opaqueredirect" || response.status === 401) return "signed-out";
    if (response.status === 200 || response.status === 201) return "ok";
    if (response.status === 403 || response.status >= 500 || response.status === 429 || response.status === 408) return "later";
    return "refused";
  }

  function readError(response) {
    return response.json().then(function (body) {
      var error = (body && body.error) || {};
      var fields = error.fields || {};
      return { message: error.message || "", fields: fields };
    }, function () { return { message: "", fields: {} }; });
  }

  function post(url, body, csrf, owner) {
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      redirect: "manual",
      headers: { accept: "application/json", "x-csrftoken": csrf, "x-outbox-owner": owner || "" },
    });
  }

  function reportBody(item) {
    var body = new URLSearchParams();
    Object.keys(item.fields).forEach(function (name) { body.append(name, item.fields[name]); });
    body.set("client_id", item.id);
    body.set("photos_expected", String(item.photos.length));
    return body;
  }

  function fail(item, outcome, error) {
    item.state = outcome === "refused" ? "refused" : outcome === "signed-out" ? "signed-out" : "waiting";
    item.error = error ? error.message : "";
    item.fields_errors = error ? error.fields : {};
    return put(item).then(function () { return { outcome: outcome, item: item, error: error }; });
  }

  function messageBody(item) {
    var body = new FormData();
    Object.keys(item.fields).forEach(function (name) { body.append(name, item.fields[name]); });
    body.set("client_id", item.id);
    if (item.file) body.append("file", item.file.blob, item.file.name);
    return body;
  }

  function sendMessage(item, token) {
    return post(item.url, messageBody(item), token, item.owner).then(function (response) {
      var outcome = classify(response);
      if (outcome !== "ok") {
        return readError(response).then(function (error) { return fail(item, outcome, error); });
      }
      return remove(item.id).then(function () { return { outcome: "ok", item: item }; });
    }, function () {
      return fail(item, "later", null);
    });
  }

  /* Send one record as far as it goes. Resolves with the outcome. */
  function send(item, csrf) {
    var token = csrf || item.csrf;
    if (item.kind === "message" || item.kind === "answer") {
      item.attempts = (item.attempts || 0) + 1;
      return sendMessage(item, token);
    }
    item.attempts = (item.attempts || 0) + 1;
    var step = item.reportId
      ? Promise.resolve("ok")
      : post(item.url, reportBody(item), token, item.owner).then(function (response) {
          var outcome = classify(response);
          if (outcome !== "ok") {
            return readError(response).then(function (error) { return { stop: fail(item, outcome, error) }; });
          }
          return response.json().then(function (report) {
            item.reportId = report.id;
            return put(item).then(function () { return "ok"; });
          });
        });
    return step.then(function (result) {
      if (result !== "ok") return result.stop;
      return sendPhotos(item, token, 0);
    }, function () {
      return fail(item, "later", null);
    });
  }

  function sendPhotos(item, token, index) {
    if (index >= item.photos.length) {
      return remove(item.id).then(function () { return { outcome: "ok", item: item }; });
    }
    var photo = item.photos[index];
    if (photo.sent) return sendPhotos(item, token, index + 1);
    var body = new FormData();
    body.append("captured_at", photo.captured_at || "");
    body.append("file", photo.blob, photo.name);
    return post("/progress/reports/" + item.reportId + "/photos", body, token, item.owner).then(function (response) {
      var outcome = classify(response);
      if (outcome !== "ok") {
        return readError(response).then(function (error) { return fail(item, outcome, error); });
      }
      photo.sent = true;
      return put(item).then(function () { return sendPhotos(item, token, index + 1); });
    }, function () {
      return fail(item, "later", null);
    });
  }

  var flushing = null;
  /* Send every waiting record of the signed-in person, oldest first;
   * stop at the first that cannot go now (the network is likely down, or
   * someone else signed in meanwhile). */
  function flush(csrf) {
    if (flushing) return flushing;
    flushing = getMeta("owner").then(function (owner) {
      if (!owner) return [];
      return all().then(function (items) {
        var mine = items.filter(function (item) { return item.owner === owner && item.state !== "refused"; });
        var results = [];
        function next(i) {
          if (i >= mine.length) return results;
          mine[i].state = "sending";
          return send(mine[i], csrf).then(function (result) {
            results.push(result);
            return result.outcome === "ok" || result.outcome === "refused" ? next(i + 1) : results;
          });
        }
        return next(0);
      });
    }).then(function (results) {
      flushing = null;
      return results;
    }, function (error) {
      flushing = null;
      throw error;
    });
    return flushing;
  }

  scope.PortalOutbox = {
    all: all, get: get, put: put, remove: remove, onChange: onChange,
    getMeta: getMeta, setMeta: setMeta,
    send: send, flush: flush,
  };
})(self);
