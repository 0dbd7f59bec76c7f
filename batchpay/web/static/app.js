// batchpay web app: live progress over server-sent events. Every page works without this
// file (the run page then reloads itself every 2 seconds while a job runs).
"use strict";
(function () {
  var box = document.getElementById("progress");
  if (!box || box.dataset.finished === "yes" || !window.EventSource) { return; }
  var bar = document.getElementById("bar");
  var label = document.getElementById("label");
  var source = new EventSource(box.dataset.events);
  source.onmessage = function (event) {
    var state = JSON.parse(event.data);
    bar.max = state.total || 1;
    bar.value = state.done;
    bar.textContent = state.done + " of " + state.total;
    label.textContent = state.label + ": " + state.done + " of " + state.total;
    if (state.finished) {
      source.close();
      window.location.reload();
    }
  };
  source.onerror = function () { source.close(); window.setTimeout(function () { window.location.reload(); }, 2000); };
})();
