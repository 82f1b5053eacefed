// Ask before anything irreversible: a form with data-confirm, or a checked radio carrying one.
// A form whose message has {choice} (one decision for several tasks) names the chosen
// radio's label in it instead, beside how many; with nothing chosen the server refuses.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.hasAttribute("data-confirm")) return;
  var message = form.getAttribute("data-confirm");
  var checked = form.querySelector("input[type=radio]:checked");
  if (message.indexOf("{choice}") !== -1) {
    if (!checked) return;
    message = message.replace("{choice}", checked.closest("label").textContent.trim());
  } else if (checked && checked.hasAttribute("data-confirm")) {
    message = checked.getAttribute("data-confirm");
  }
  if (!window.confirm(message)) event.preventDefault();
});

// A bundle that did not load (not built yet) says so in its panel. The CSP allows no inline
// handlers, so the script tag names what to mark: data-fail-target (a selector), whose status
// line (role=status, the target itself or inside it) shows data-fail-message; a panel gets
// data-fail-class added, a status line has its classes replaced by it.
document.addEventListener("error", function (event) {
  var script = event.target;
  if (!(script instanceof HTMLScriptElement) || !script.hasAttribute("data-fail-target")) return;
  var classes = script.getAttribute("data-fail-class") || "";
  document.querySelectorAll(script.getAttribute("data-fail-target")).forEach(function (target) {
    var own = target.matches("[role=status]");
    var status = own ? target : target.querySelector("[role=status]");
    if (own) target.className = classes;
    else classes.split(" ").forEach(function (name) { if (name) target.classList.add(name); });
    if (status) status.textContent = script.getAttribute("data-fail-message");
  });
}, true);

// On a phone the navigation folds behind the 菜单 button (webapp/static/style.css shows the
// button only on narrow screens); without this script the links simply stay in view.
document.addEventListener("DOMContentLoaded", function () {
  var toggle = document.querySelector(".menu-toggle");
  var nav = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
  if (!nav) return;
  function show(open) {
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    nav.classList.toggle("collapsed", !open);
  }
  show(false);
  toggle.hidden = false;
  toggle.addEventListener("click", function () {
    show(toggle.getAttribute("aria-expanded") !== "true");
  });
  nav.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
      show(false);
      toggle.focus();
    }
  });
});

// Lists become stacked cards on a phone: each cell shows its column's heading, copied from
// the table's header row into data-label (a template may set its own).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("table.list").forEach(function (table) {
    var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.trim();
    });
    if (!heads.length) return;
    table.querySelectorAll("tbody tr").forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (cell, i) {
        if (heads[i] && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", heads[i]);
      });
    });
  });
});
