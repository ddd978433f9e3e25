/* The page side of the offline outbox and the service worker.
 *
 * - Registers the service worker (static/sw.js, served at /sw.js).
 * - Tells the outbox who is signed in: records belong to the person who
 *   queued them (their owner, body[data-owner]); those of another account
 *   on the same phone are never sent with this one's session, are kept for
 *   their owner, and the page says how many wait ([data-outbox-others])
 *   without showing them. Tells the worker to forget kept pages when a
 *   page is shown to nobody signed in, and loads a page again when the
 *   worker says the session it was drawn for has ended.
 * - The report form (form[data-outbox-form]) saves the report in IndexedDB
 *   first, then sends it; field errors from the server come back onto the
 *   form, a lost connection leaves it queued.
 * - The outbox panel ([data-outbox-panel]) lists what is queued, with
 *   "send now" and "discard".
 * - A conversation's form (form[data-outbox-message]) queues the message
 *   the same way (text, mentions, one photo or file): it shows in the thread
 *   as waiting, goes when the connection is there, and the thread is drawn
 *   again from the server once it arrived.
 * - An NCR step's answer form (form[data-outbox-answer]) queues the answer
 *   (text, maybe one photo): the step says it waits, and the NCR page is
 *   loaded again once it arrived.
 * - Sends again on load, when the connection returns and when the page is
 *   shown again; Background Sync does it too where the browser has it.
 */
(function () {
  "use strict";

  var Outbox = window.PortalOutbox;
  if (!Outbox || !window.indexedDB) return;

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["x-csrftoken"] || "";
    } catch (error) {
      return "";
    }
  }

  function worker() {
    return "serviceWorker" in navigator ? navigator.serviceWorker.ready : Promise.reject(new Error("no worker"));
  }

  function tellWorker(message) {
    return worker().then(function (registration) {
      if (registration.active) registration.active.postMessage(message);
    }, function () {});
  }

  function askForSync() {
    worker().then(function (registration) {
      if (registration.sync) return registration.sync.register("outbox");
    }).catch(function () {});
  }

  // -- the panel -----------------------------------------------------------

  function panel() { return document.querySelector("[data-outbox-panel]"); }

  function photoText(p, item) {
    var sent = item.photos.filter(function (photo) { return photo.sent; }).length;
    return p.dataset.msgPhotos.replace("{sent}", sent).replace("{total}", item.photos.length);
  }

  function button(label, className, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "button " + className;
    b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  }

  function render() {
    var p = panel();
    if (!p) return Promise.resolve();
    return Promise.all([Outbox.all(), Outbox.getMeta("owner")]).then(function (values) {
      var items = values[0].filter(function (item) { return item.owner === values[1]; });
      var list = p.querySelector("[data-outbox-list]");
      list.textContent = "";
      items.forEach(function (item) {
        var li = document.createElement("li");
        li.className = "outbox-item state-" + item.state;
        li.dataset.outboxItem = item.id;
        var title = document.createElement("strong");
        title.textContent = item.label;
        var state = document.createElement("div");
        state.className = item.state === "refused" ? "field-error" : "hint";
        var text = item.state === "refused" ? p.dataset.msgRefused + " " + (item.error || "")
          : item.state === "signed-out" ? p.dataset.msgSignin
          : item.state === "sending" ? p.dataset.msgSending : p.dataset.msgWaiting;
        state.textContent = text + (item.photos.length ? " · " + photoText(p, item) : "");
        var actions = document.createElement("div");
        actions.className = "outbox-actions";
        actions.appendChild(button(p.dataset.msgRetry, "primary", function () { retry(item.id); }));
        actions.appendChild(button(p.dataset.msgDiscard, "", function () { discard(item.id); }));
        li.appendChild(title);
        li.appendChild(state);
        // Refused: what was written stays readable (and copyable) here until discarded.
        if (item.state === "refused" && writtenText(item)) {
          var kept = document.createElement("p");
          kept.className = "kept-text";
          kept.textContent = writtenText(item);
          li.appendChild(kept);
        }
        li.appendChild(actions);
        list.appendChild(li);
      });
      p.querySelector("[data-outbox-count]").textContent = items.length;
      p.hidden = items.length === 0;
    });
  }

  // One drawing for a burst of changes (a report and its photos).
  var drawing = null;
  function renderSoon() {
    if (drawing) return;
    drawing = window.setTimeout(function () {
      drawing = null;
      render();
    }, 50);
  }

  /* The words of a queued record: an answer's text, a message's body, a report's note. */
  function writtenText(item) {
    var fields = item.fields || {};
    return fields.text || fields.body || fields.note || "";
  }

  function announceSent(count) {
    var note = document.querySelector("[data-outbox-sent]");
    var p = panel();
    if (!note || !p || !count) return;
    note.textContent = p.dataset.msgSent;
    note.hidden = false;
  }

  function retry(id) {
    Outbox.get(id).then(function (item) {
      if (!item) return null;
      item.state = "sending";
      return Outbox.put(item).then(render).then(function () { return Outbox.send(item, csrfToken()); });
    }).then(function (result) {
      if (result && result.outcome === "ok") announceSent(1);
      return render();
    });
  }

  function discard(id) {
    var p = panel();
    if (!window.confirm(p.dataset.msgConfirm)) return;
    Outbox.remove(id).then(render);
  }

  /* What arrived ({kind, page} of each record), sent from this page or
   * by the worker's Background Sync, which may get there first. */
  function arrived(sent) {
    announceSent(sent.filter(function (item) { return !item.kind; }).length);
    if (sent.some(function (item) { return item.kind === "message"; })) refreshConversation();
    // An answer this page sent itself was drawn by its own reload; the
    // worker's sync, asked for at the same time, reports it again, and a
    // second reload would wipe what the person began typing since.
    var fresh = sent.filter(function (item) { return item.kind === "answer" && item.page === window.location.pathname && !shownHere(item.id); });
    if (fresh.length) {
      window.location.reload();
      return null;
    }
    return render();
  }

  function shownHere(id) {
    try { return Boolean(id) && (window.sessionStorage.getItem("outbox-shown") || "").split(" ").indexOf(id) >= 0; } catch (e) { return false; }
  }

  function markShown(id) {
    try {
      var kept = (window.sessionStorage.getItem("outbox-shown") || "").split(" ").filter(Boolean).slice(-20);
      window.sessionStorage.setItem("outbox-shown", kept.concat([id]).join(" "));
    } catch (e) { /* private mode: at worst the page loads once more */ }
  }

  function flush() {
    return Outbox.flush(csrfToken()).then(function (results) {
      return arrived(results.filter(function (r) { return r.outcome === "ok"; }).map(function (r) { return r.item; }));
    }, function () { return render(); });
  }

  // -- conversation messages -------------------------------------------------

  /* Draw the conversation on this page again from the server. */
  function refreshConversation() {
    var form = document.querySelector("form[data-outbox-message]");
    if (form && window.htmx) window.htmx.ajax("GET", form.dataset.refresh, { target: "#conversation", swap: "outerHTML" });
  }

  function showWaiting(form, item) {
    var list = form.closest(".thread").querySelector("ol.messages");
    var li = document.createElement("li");
    li.className = "message mine waiting";
    li.dataset.waitingMessage = item.id;
    var body = document.createElement("p");
    body.className = "message-body";
    body.textContent = item.fields.body || "";
    var state = document.createElement("p");
    state.className = "hint";
    state.textContent = form.dataset.msgWaiting + (item.file ? " · " + item.file.name : "");
    li.appendChild(body);
    li.appendChild(state);
    list.appendChild(li);
  }

  function showMessageError(form, item, error) {
    var banner = form.querySelector("[data-message-error]");
    var texts = [error.message].concat(Object.keys(error.fields).map(function (name) { return error.fields[name]; }));
    banner.textContent = texts.filter(Boolean).join(" ");
    banner.hidden = false;
    form.querySelector("textarea[name=body]").value = item.fields.body || "";
    var waiting = document.querySelector("[data-waiting-message='" + item.id + "']");
    if (waiting) waiting.remove();
  }

  function onMessageSubmit(event) {
    var form = event.target.closest && event.target.closest("form[data-outbox-message]");
    if (!form) return;
    // Ours alone: htmx would post the same form a second time.
    event.preventDefault();
    event.stopPropagation();
    var fields = {};
    new FormData(form).forEach(function (value, name) {
      if (typeof value === "string" && name !== "_csrf_token") fields[name] = value;
    });
    var input = form.querySelector("input[type=file]");
    var file = input && input.files && input.files[0];
    var item = {
      id: fields.client_id,
      kind: "message",
      owner: document.body.dataset.owner,
      url: form.getAttribute("action"),
      label: form.dataset.label + ": " + (fields.body || "").slice(0, 40),
      fields: fields,
      photos: [],
      file: file ? { blob: file, name: file.name } : null,
      state: "waiting",
      error: "",
      csrf: csrfToken(),
      created: Date.now(),
      attempts: 0,
    };
    Outbox.put(item).then(function () {
      askForSync();
      showWaiting(form, item);
      form.reset();
      form.querySelector("input[name=client_id]").value = newId();
      form.querySelector("[data-message-error]").hidden = true;
      if (!navigator.onLine) return { outcome: "later" };
      return Outbox.send(item, csrfToken());
    }).then(function (result) {
      if (result.outcome === "ok") return refreshConversation();
      if (result.outcome === "refused") {
        // The server said no (an empty text, a file it does not take):
        // the writer fixes it here, nothing stays queued.
        return Outbox.remove(item.id).then(function () { showMessageError(form, item, result.error); });
      }
      return render();
    });
  }

  // -- NCR step answers ------------------------------------------------------

  function answerForm(url) {
    return Array.prototype.filter.call(document.querySelectorAll("form[data-outbox-answer]"), function (form) {
      return form.getAttribute("action") === url;
    })[0];
  }

  /* The step's form says its answer waits on the phone, and is put away
   * (one answer at a time: the next comes once this one arrived). */
  function showAnswerWaiting(item) {
    var form = answerForm(item.url);
    if (!form) return;
    var note = form.parentNode.querySelector("[data-answer-waiting]");
    note.textContent = form.dataset.msgWaiting + " " + (item.fields.text || "").slice(0, 80) + (item.file ? " · " + item.file.name : "");
    note.hidden = false;
    form.hidden = true;
  }

  function showAnswerError(form, item, error) {
    var banner = form.querySelector("[data-answer-error]");
    var texts = [error.message].concat(Object.keys(error.fields).map(function (name) { return error.fields[name]; }));
    banner.textContent = texts.filter(Boolean).join(" ");
    banner.hidden = false;
    form.querySelector("textarea[name=text]").value = item.fields.text || "";
    form.parentNode.querySelector("[data-answer-waiting]").hidden = true;
    form.hidden = false;
  }

  function onAnswerSubmit(event) {
    var form = event.target.closest && event.target.closest("form[data-outbox-answer]");
    if (!form) return;
    event.preventDefault();
    event.stopPropagation();
    var fields = {};
    new FormData(form).forEach(function (value, name) {
      if (typeof value === "string" && name !== "_csrf_token") fields[name] = value;
    });
    var input = form.querySelector("input[type=file]");
    var file = input && input.files && input.files[0];
    var item = {
      id: fields.client_id,
      kind: "answer",
      owner: document.body.dataset.owner,
      url: form.getAttribute("action"),
      page: window.location.pathname,
      label: form.dataset.label,
      fields: fields,
      photos: [],
      file: file ? { blob: file, name: file.name } : null,
      state: "waiting",
      error: "",
      csrf: csrfToken(),
      created: Date.now(),
      attempts: 0,
    };
    form.querySelector("[data-answer-error]").hidden = true;
    Outbox.put(item).then(function () {
      askForSync();
      showAnswerWaiting(item);
      if (!navigator.onLine) return { outcome: "later" };
      return Outbox.send(item, csrfToken());
    }).then(function (result) {
      if (result.outcome === "ok") {
        markShown(item.id);
        window.location.reload();
        return null;
      }
      if (result.outcome === "refused") {
        // The server said no (too short, the step moved on): the writer
        // sees why here, nothing stays queued.
        return Outbox.remove(item.id).then(function () { showAnswerError(form, item, result.error); });
      }
      return render();
    });
  }

  /* An answer the server refused after its step's form had gone (QA moved
   * the NCR on while it waited): shown apart with the reason and what was
   * written, kept on the phone until the writer discards it. */
  function showOrphanAnswer(item) {
    var model = document.querySelector("template[data-answer-orphan]");
    var place = document.querySelector("[data-answer-orphans]");
    if (!model || !place) return;
    var shown = Array.prototype.some.call(place.children, function (node) { return node.dataset.orphanAnswer === item.id; });
    if (shown) return;
    var card = document.createElement("section");
    card.className = "card orphan-answer";
    card.dataset.orphanAnswer = item.id;
    card.setAttribute("role", "alert");
    var title = document.createElement("h2");
    title.textContent = model.dataset.msgTitle + " · " + item.label;
    var reason = document.createElement("p");
    reason.className = "field-error";
    var fields = item.fields_errors || {};
    reason.textContent = [item.error].concat(Object.keys(fields).map(function (name) { return fields[name]; })).filter(Boolean).join(" ");
    var field = document.createElement("div");
    field.className = "field";
    var label = document.createElement("label");
    label.htmlFor = "orphan-" + item.id;
    label.textContent = model.dataset.msgText;
    var text = document.createElement("textarea");
    text.id = "orphan-" + item.id;
    text.rows = 4;
    text.readOnly = true;
    text.value = writtenText(item);
    field.appendChild(label);
    field.appendChild(text);
    var discardIt = button(model.dataset.msgDiscard, "block", function () {
      if (!window.confirm(model.dataset.msgConfirm)) return;
      Outbox.remove(item.id).then(function () { card.remove(); });
    });
    card.appendChild(title);
    card.appendChild(reason);
    card.appendChild(field);
    card.appendChild(discardIt);
    place.appendChild(card);
  }

  /* Answers of this page still on the phone: the step says they wait; one
   * the server refused comes back into its form with the reason, or apart
   * when its step has no form any more. */
  function showQueuedAnswers(owner) {
    if (!document.querySelector("form[data-outbox-answer], template[data-answer-orphan]")) return Promise.resolve();
    var here = window.location.pathname;
    return Outbox.all().then(function (items) {
      var mine = items.filter(function (item) { return item.kind === "answer" && item.owner === owner; });
      return Promise.all(mine.map(function (item) {
        var form = answerForm(item.url);
        if (!form) {
          if (item.state === "refused" && item.page === here) showOrphanAnswer(item);
          return null;
        }
        if (item.state !== "refused") return showAnswerWaiting(item);
        return Outbox.remove(item.id).then(function () {
          showAnswerError(form, item, { message: item.error, fields: item.fields_errors || {} });
        });
      }));
    });
  }

  function onAnswerPhoto(event) {
    var input = event.target;
    var form = input.closest && input.closest("form[data-outbox-answer]");
    if (!form || input.type !== "file") return;
    var note = form.querySelector("[data-answer-photo]");
    note.textContent = input.files && input.files[0] ? input.files[0].name : "";
    note.hidden = !note.textContent;
  }

  // -- the report form -----------------------------------------------------

  function showErrors(form, error) {
    var banner = document.querySelector("[data-report-error]");
    form.querySelectorAll("[data-error-for]").forEach(function (node) {
      var message = error.fields[node.dataset.errorFor];
      node.textContent = message || "";
      node.hidden = !message;
    });
    if (banner) {
      banner.textContent = error.message;
      banner.hidden = !error.message;
      banner.scrollIntoView({ block: "center" });
    }
  }

  function stageName(form) {
    var checked = form.querySelector("input[name=stage]:checked");
    var label = checked && checked.closest("label");
    return label ? label.textContent.trim() : "";
  }

  function itemFrom(form, owner) {
    var fields = {};
    new FormData(form).forEach(function (value, name) {
      if (typeof value === "string" && name !== "_csrf_token") fields[name] = value;
    });
    fields.made_at = new Date().toISOString();
    var photos = (form.portalPhotos || []).map(function (photo) {
      return { blob: photo.blob, name: photo.name, captured_at: photo.captured_at, sent: false };
    });
    return {
      id: fields.client_id,
      owner: owner,
      url: form.getAttribute("action"),
      label: [form.dataset.label, stageName(form), fields.good_quantity].filter(Boolean).join(" · "),
      fields: fields,
      photos: photos,
      reportId: null,
      state: "waiting",
      error: "",
      csrf: csrfToken(),
      created: Date.now(),
      attempts: 0,
    };
  }

  function onSubmit(event) {
    var form = event.target.closest("form[data-outbox-form]");
    if (!form) return;
    event.preventDefault();
    var submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    var item = itemFrom(form, document.body.dataset.owner);
    // Saved on the phone before anything is sent: nothing is lost if the
    // connection drops half-way or the page is closed.
    Outbox.put(item).then(function () {
      askForSync();
      if (!navigator.onLine) return { outcome: "later" };
      return Outbox.send(item, csrfToken());
    }).then(function (result) {
      if (result.outcome === "refused" && !item.reportId) {
        // The report itself was refused (a field): fix it here; the form
        // still holds everything, so the queued copy can go.
        return Outbox.remove(item.id).then(function () {
          submit.disabled = false;
          showErrors(form, result.error);
        });
      }
      var next = form.dataset.next + (result.outcome === "ok" ? "?sent=1" : "");
      window.location.assign(next);
      return null;
    }, function () {
      submit.disabled = false;
      showErrors(form, { message: form.dataset.msgFailed, fields: {} });
    });
  }

  function newId() {
    if (crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  /* Every report gets its own id when the form is shown: a form drawn from
   * the kept copy of the page (offline) must not reuse the one in it. */
  function freshIds() {
    document.querySelectorAll("form[data-outbox-form] input[name=client_id], form[data-outbox-answer] input[name=client_id]").forEach(function (input) {
      input.value = newId();
    });
  }

  // -- other accounts' records -----------------------------------------------

  /* Records queued before they carried an owner name only the account
   * ("user"): they are this person's, in the tenant they are signed in to. */
  function adoptUnowned(user, owner) {
    if (!user || !owner) return Promise.resolve();
    return Outbox.all().then(function (items) {
      return Promise.all(items.filter(function (item) { return !item.owner && item.user === user; }).map(function (item) {
        item.owner = owner;
        return Outbox.put(item);
      }));
    });
  }

  /* Another account's records stay on the phone for their owner: this one
   * learns only how many, never what they are. The note exists only while
   * there are some (drawn from template[data-outbox-others-note]). */
  function showOthers() {
    var model = document.querySelector("template[data-outbox-others-note]");
    if (!model) return null;
    var owner = document.body.dataset.owner;
    return Outbox.all().then(function (items) {
      var others = items.filter(function (item) { return item.owner !== owner; }).length;
      var note = document.querySelector("[data-outbox-others]");
      if (!others) {
        if (note) note.remove();
        return;
      }
      if (!note) {
        note = model.content.firstElementChild.cloneNode(true);
        model.after(note);
      }
      note.textContent = model.dataset.msg.replace("{count}", others);
    });
  }

  // -- start -----------------------------------------------------------------

  /* What each page needs, after a full load or an htmx navigation. */
  function pageShown() {
    var owner = document.body.dataset.owner || null;
    freshIds();
    var links = Array.prototype.map.call(document.querySelectorAll("a[data-precache]"), function (a) { return a.getAttribute("href"); });
    if (links.length && owner) tellWorker({ type: "precache", urls: links });
    if (/[?&]sent=1/.test(window.location.search)) announceSent(1);
    if (!owner) return render();
    // Again after sending: an answer refused just now shows at once.
    return showQueuedAnswers(owner).then(flush).then(function () { return showQueuedAnswers(owner); }).then(showOthers);
  }

  function start() {
    var owner = document.body.dataset.owner || null;
    Outbox.setMeta("owner", owner).then(function () {
      if (!owner) tellWorker({ type: "forget" });
      return adoptUnowned(document.body.dataset.user, owner);
    }).then(pageShown);
    Outbox.onChange(renderSoon);
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.addEventListener("message", function (event) {
        var data = event.data || {};
        // Drawn from the kept copy of a session that has ended since (a weak
        // network answered late): what the server says now replaces it.
        if (data.type === "session-ended" && document.body.dataset.session && document.body.dataset.session !== data.key) {
          window.location.reload();
        } else if (data.type === "outbox-sent" && Array.isArray(data.sent)) {
          arrived(data.sent);
        }
      });
    }
    if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
    window.addEventListener("pageshow", function (event) { if (event.persisted) freshIds(); });
    document.addEventListener("submit", onSubmit);
    // Capture: before htmx's own listener on the form.
    document.addEventListener("submit", onMessageSubmit, true);
    document.addEventListener("submit", onAnswerSubmit, true);
    document.addEventListener("change", onAnswerPhoto);
    document.body.addEventListener("htmx:afterSettle", function (event) {
      if (event.detail.boosted) pageShown();
    });
    // A link followed by htmx with no network: load it the ordinary way,
    // so the worker answers with the kept copy or the offline page.
    document.body.addEventListener("htmx:sendError", function (event) {
      if (event.detail.boosted && event.detail.pathInfo) window.location.assign(event.detail.pathInfo.finalRequestPath || event.detail.pathInfo.requestPath);
    });
    window.addEventListener("online", flush);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") flush();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
