// Lets the Jupyter widgets HTML manager run from this site with no network.
// Loaded on pages with saved widget state, after require.js and before embed-amd.js
// (nb_ipywidgets_js in _config.yml); book/_ext/emlib_book.py copies it to _vendor/.
(function () {
  "use strict";
  // embed-amd.js finds its Font Awesome files relative to the AMD module's URL; by default
  // RequireJS resolves that against the page, so point the module's folder at _vendor/widgets.
  var here = document.currentScript.src;
  var vendor = here.slice(0, here.lastIndexOf("/") + 1);
  window.require.config({
    paths: { "@jupyter-widgets/html-manager/dist": vendor + "widgets" },
  });

  // ipywidgets 8 typesets widget labels with MathJax 2's API (MathJax.Hub.Queue); the site
  // runs MathJax 3, so translate the one call the widgets make.
  function typeset(element) {
    var mathjax = window.MathJax;
    if (!mathjax || !mathjax.startup) {
      return;
    }
    mathjax.startup.promise
      .then(function () {
        return mathjax.typesetPromise([element]);
      })
      .catch(function (error) {
        console.error("MathJax could not typeset a widget label:", error);
      });
  }

  function installHub() {
    var mathjax = window.MathJax;
    if (mathjax && mathjax.version && !mathjax.Hub) {
      mathjax.Hub = {
        Queue: function () {
          Array.prototype.forEach.call(arguments, function (job) {
            if (Array.isArray(job) && job[0] === "Typeset") {
              typeset(job[2]);
            }
          });
        },
      };
    }
  }

  // Accessibility of the rendered widgets (WCAG 2.1 AA). The widget manager draws a slider as
  // a `role="slider"` handle beside a <label> that is not tied to it, and a widget's figure as
  // an <img> without alt. Each handle gets its label's text as its name, and each image the
  // description written in the notebook cell's metadata, which book/_ext/emlib_book.py put on
  // the view's <script> (`data-emlib-alt`; the widget's area is inserted just before it).
  function describeWidgets(root) {
    root.querySelectorAll(".widget-slider").forEach(function (slider) {
      var label = slider.querySelector(".widget-label");
      var name = label ? label.textContent.trim() : "";
      slider.querySelectorAll('[role="slider"]').forEach(function (handle) {
        if (name && !handle.hasAttribute("aria-label")) {
          handle.setAttribute("aria-label", name);
        }
      });
    });
    root.querySelectorAll(".widget-subarea").forEach(function (area) {
      var view = area.nextElementSibling;
      var alt = view && view.getAttribute("data-emlib-alt");
      if (!alt) {
        return;
      }
      area.querySelectorAll("img").forEach(function (img) {
        if (!img.hasAttribute("alt")) {
          img.setAttribute("alt", alt);
        }
      });
    });
  }

  function watchWidgets() {
    describeWidgets(document);
    new MutationObserver(function () {
      describeWidgets(document);
    }).observe(document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", watchWidgets);
  } else {
    watchWidgets();
  }

  // MathJax is loaded with `defer`: it has replaced its configuration object by the real
  // MathJax once the document is parsed, before the widget manager renders on `load`.
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", installHub);
  } else {
    installHub();
  }
})();
