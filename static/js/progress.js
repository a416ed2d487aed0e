// Live progress of training runs on the Models page: each row of a queued or running run
// carries data-progress-url; its JSON ({status_label, progress, message, finished, version})
// updates the bar, the status and the message every few seconds, without a reload, and the
// row stops polling once the run has finished.
(function () {
  "use strict";
  var EVERY_MS = 2000;

  function update(row, state) {
    var bar = row.querySelector("progress");
    if (bar) { bar.value = state.progress; }
    var set = function (selector, text) {
      var cell = row.querySelector(selector);
      if (cell) { cell.textContent = text; }
    };
    set(".run-percent", state.progress + "%");
    set(".run-status", state.status_label);
    set(".run-message", state.message || "");
    if (state.version) { set(".run-version", "v" + state.version); }
    row.dataset.status = state.status;
  }

  function poll(row) {
    var url = row.dataset.progressUrl;
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (answer) {
        if (!answer.ok) { throw new Error("HTTP " + answer.status); }
        return answer.json();
      })
      .then(function (state) {
        update(row, state);
        if (state.finished) {
          row.removeAttribute("data-progress-url");
          var note = document.getElementById("runs-finished");
          if (note) { note.hidden = false; }
        } else {
          window.setTimeout(function () { poll(row); }, EVERY_MS);
        }
      })
      .catch(function () {
        // A restart or a dropped connection: try again a little later.
        window.setTimeout(function () { poll(row); }, EVERY_MS * 3);
      });
  }

  function start() {
    document.querySelectorAll("tr[data-progress-url]").forEach(poll);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
