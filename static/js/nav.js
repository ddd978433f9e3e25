// The phone's bottom bar: "Menu" opens the places that do not fit the bar
// as a sheet above it; a tap elsewhere or Escape closes it. Delegated from
// the document, so boosted page loads need no re-binding.
(function () {
  "use strict";
  function setOpen(nav, open) {
    nav.classList.toggle("open", open);
    var button = nav.querySelector(".appnav-more");
    if (button) button.setAttribute("aria-expanded", open ? "true" : "false");
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".appnav-more");
    document.querySelectorAll(".appnav.open").forEach(function (nav) {
      if (!button || !nav.contains(button)) setOpen(nav, false);
    });
    if (button) {
      var nav = button.closest(".appnav");
      setOpen(nav, !nav.classList.contains("open"));
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll(".appnav.open").forEach(function (nav) {
      setOpen(nav, false);
      var button = nav.querySelector(".appnav-more");
      if (button) button.focus();
    });
  });
})();
