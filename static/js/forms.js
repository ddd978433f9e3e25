// A gloved double tap, or a second tap on a slow network, submits a plain
// form twice, and the server saves both: two invitations and two emails,
// two orders, two NCRs. While a form's post is on its way, a second submit
// of it is dropped. Forms whose submit another script takes over (the
// outbox, uploads, htmx) are left to it: this listens on the window, after
// their listeners on the document and the form, and skips a submit they
// prevented.
(function () {
  "use strict";
  // A post answered with a download (or never) leaves the page where it
  // was: the form is free again after this long.
  var HELD_MS = 8000;

  function release(form) {
    form.removeAttribute("aria-busy");
  }

  window.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || event.defaultPrevented) return;
    if ((form.getAttribute("method") || "get").toLowerCase() !== "post") return;
    if (form.getAttribute("aria-busy") === "true") {
      event.preventDefault();
      return;
    }
    form.setAttribute("aria-busy", "true");
    window.setTimeout(function () { release(form); }, HELD_MS);
  });

  // The back-forward cache brings a page back as it was left: busy.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) document.querySelectorAll('form[aria-busy="true"]').forEach(release);
  });
})();
