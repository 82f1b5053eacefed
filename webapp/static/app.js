// Ask before anything irreversible: a form with data-confirm, or a checked radio carrying one.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.hasAttribute("data-confirm")) return;
  var checked = form.querySelector("input[type=radio]:checked[data-confirm]");
  var message = checked ? checked.getAttribute("data-confirm") : form.getAttribute("data-confirm");
  if (!window.confirm(message)) event.preventDefault();
});
