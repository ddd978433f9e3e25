/* Web Push on this device, from the notification settings page: subscribe
 * with the portal's VAPID key and hand the subscription to the server, or
 * unsubscribe. A device that is already subscribed hands its subscription
 * over again on each visit, so it follows whoever is signed in on it. */
(function () {
  "use strict";
  /* Signing out: the server forgets this device's subscription with the
   * session; the browser drops it too, so that whoever signs in next finds
   * push off here and turns it on for themselves. A browser that takes
   * long is not waited for. */
  document.querySelectorAll("form[data-push-signout]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.pushDone || !("serviceWorker" in navigator)) return;
      event.preventDefault();
      form.dataset.pushDone = "1";
      var go = function () { form.submit(); };
      var timer = setTimeout(go, 1500);
      navigator.serviceWorker.getRegistration().then(function (registration) {
        return registration && registration.pushManager ? registration.pushManager.getSubscription() : null;
      }).then(function (subscription) {
        return subscription ? subscription.unsubscribe() : null;
      }).catch(function () { return null; }).then(function () {
        clearTimeout(timer);
        go();
      });
    });
  });

  var box = document.getElementById("push-device");
  if (!box) return;
  var status = box.querySelector("[data-push-status]");
  var on = box.querySelector("[data-push-on]");
  var off = box.querySelector("[data-push-off]");

  function say(name) { status.textContent = box.getAttribute("data-say-" + name) || ""; }

  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    say("unsupported");
    return;
  }

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["x-csrftoken"] || "";
    } catch (error) {
      return "";
    }
  }

  function serverKey() {
    var text = box.getAttribute("data-key").replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(text + "===".slice((text.length + 3) % 4));
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", accept: "application/json", "x-csrftoken": csrfToken() },
      body: JSON.stringify(body),
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response;
    });
  }

  function show(subscription) {
    on.hidden = !!subscription;
    off.hidden = !subscription;
    say(subscription ? "enabled" : "disabled");
  }

  var ready = navigator.serviceWorker.ready;
  ready.then(function (registration) {
    return registration.pushManager.getSubscription();
  }).then(function (subscription) {
    show(subscription);
    if (subscription) return post("/notifications/push", subscription.toJSON());
  }).catch(function () { say("failed"); });

  on.addEventListener("click", function () {
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") {
        say("denied");
        return null;
      }
      return ready.then(function (registration) {
        return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: serverKey() });
      }).then(function (subscription) {
        return post("/notifications/push", subscription.toJSON()).then(function () { show(subscription); });
      });
    }).catch(function () { say("failed"); });
  });

  off.addEventListener("click", function () {
    ready.then(function (registration) {
      return registration.pushManager.getSubscription();
    }).then(function (subscription) {
      if (!subscription) return show(null);
      return post("/notifications/push/remove", { endpoint: subscription.endpoint }).then(function () {
        return subscription.unsubscribe();
      }).then(function () { show(null); });
    }).catch(function () { say("failed"); });
  });
})();
