// The import's progress bar: poll the job until it is no longer running, then show the outcome.
(function () {
  var box = document.getElementById("import-progress");
  if (!box) return;
  var bar = document.getElementById("progress-bar");
  var text = document.getElementById("progress-text");
  function poll() {
    fetch(box.getAttribute("data-progress-url"), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (job) {
        bar.value = job.progress;
        text.textContent = Math.round(job.progress * 100) + "%";
        if (job.status === "running") setTimeout(poll, 1000);
        else window.location.assign(box.getAttribute("data-done-url"));
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
})();
