// The bottom bar scrolls sideways when a role's labels are wider than the
// phone; keep the current page's item in view after every (boosted) load.
(function () {
  "use strict";
  function reveal() {
    var active = document.querySelector(".appnav .appnav-item.active");
    var bar = active && active.parentElement;
    if (!bar || bar.scrollWidth <= bar.clientWidth) return;
    bar.scrollLeft = active.offsetLeft + active.offsetWidth / 2 - bar.clientWidth / 2;
  }
  document.addEventListener("DOMContentLoaded", reveal);
  document.addEventListener("htmx:load", function (event) {
    var loaded = event.detail && event.detail.elt;
    if (loaded && loaded.querySelector && loaded.querySelector(".appnav")) reveal();
  });
})();
