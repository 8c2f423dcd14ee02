// The course website's own accessibility JavaScript, loaded on every page by
// book/_ext/emlib_book.py.
//
// The colour-mode button: its icons are decorative (templates/theme-switcher.html), so its
// name says which mode is on, "Color mode: dark", and follows the theme's `data-mode`.
(function () {
  "use strict";
  var NAMES = { light: "light", dark: "dark", auto: "as the system" };

  function nameButtons() {
    var mode = document.documentElement.dataset.mode || "auto";
    document.querySelectorAll(".theme-switch-button").forEach(function (button) {
      button.setAttribute("aria-label", "Color mode: " + (NAMES[mode] || mode));
    });
  }

  function start() {
    nameButtons();
    new MutationObserver(nameButtons).observe(document.documentElement, {
      attributes: true,
      attributeFilter: ["data-mode"],
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
