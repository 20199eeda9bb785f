// The import's progress page asks for itself again while the import runs, and moves
// its status (a polite live region) and progress bar; at the end it loads the page of
// results. Without this script, the page's button shows the progress.
(function () {
  "use strict";
  var region = document.getElementById("import-progress");
  if (!region) { return; }
  function copy(fresh, selector, attribute) {
    var here = region.querySelector(selector), there = fresh.querySelector(selector);
    if (!here || !there) { return; }
    if (attribute) { here.setAttribute(attribute, there.getAttribute(attribute)); }
    else if (here.textContent !== there.textContent) { here.textContent = there.textContent; }
  }
  function refresh() {
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("import-progress");
        if (!fresh) { return; }
        if (fresh.getAttribute("data-state") !== "running") {
          window.location.reload();
          return;
        }
        copy(fresh, "[data-testid=import-status]");
        copy(fresh, "progress", "value");
        window.setTimeout(refresh, 1000);
      })
      .catch(function () { window.setTimeout(refresh, 3000); });
  }
  window.setTimeout(refresh, 500);
})();
