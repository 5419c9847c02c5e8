/* Evidence pack progress: polls the status endpoint and moves the bar. Without JavaScript the page
   refreshes itself instead (a <noscript> meta refresh). */
(function () {
  "use strict";
  var box = document.getElementById("export-progress");
  if (!box) { return; }
  var bar = document.getElementById("export-progress-bar");
  var percent = document.getElementById("export-progress-percent");
  var text = document.getElementById("export-progress-text");
  var finished = box.getAttribute("data-finished") === "true";
  function poll() {
    fetch(box.getAttribute("data-status-url"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        bar.value = data.progress;
        bar.textContent = data.progress + "%";
        percent.textContent = data.progress + "%";
        text.firstElementChild.textContent = data.status_label;
        var step = document.getElementById("export-progress-step");
        if (step && data.step) { step.textContent = data.step; }
        if (data.finished) {
          // The page drawn by the server says when the file expires, or why the build failed.
          window.location.reload();
          return;
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  if (!finished) { window.setTimeout(poll, 500); }
})();
