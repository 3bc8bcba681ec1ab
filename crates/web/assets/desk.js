// lunas dashboard: the live previews of the Settings page (reminders, messages). Everything
// works without this script (each Preview button posts its form); it only saves a round trip
// per keystroke. Text is put in with textContent, never as HTML.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form[data-preview]").forEach(function (form) {
    var out = document.getElementById(form.dataset.previewTarget);
    if (!out) return;
    var timer = null;
    function show(data) {
      var list = out.querySelector("ol");
      var error = out.querySelector(".error");
      if (!error) {
        error = document.createElement("p");
        error.className = "error";
        error.setAttribute("role", "alert");
        out.insertBefore(error, list);
      }
      error.textContent = data.error || "";
      error.hidden = !data.error;
      list.textContent = "";
      (data.steps || []).forEach(function (step) {
        var li = document.createElement("li");
        var time = document.createElement("time");
        time.textContent = step.when;
        var pre = document.createElement("pre");
        pre.className = "message";
        pre.textContent = step.text;
        li.appendChild(time);
        li.appendChild(pre);
        list.appendChild(li);
      });
      out.dataset.state = "fresh";
    }
    function refresh() {
      out.dataset.state = "loading";
      fetch(form.dataset.preview, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        credentials: "same-origin",
        headers: { "Accept": "application/json" }
      })
        .then(function (r) { return r.json(); })
        .then(show)
        .catch(function () { out.dataset.state = "error"; });
    }
    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 300);
    });
  });
});
