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

  // MathJax is loaded with `defer`: it has replaced its configuration object by the real
  // MathJax once the document is parsed, before the widget manager renders on `load`.
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", installHub);
  } else {
    installHub();
  }
})();
