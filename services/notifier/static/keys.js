// Keyboard shortcuts for the review UI (no inline script: CSP script-src 'self').
// j/k move through the list, o or Enter opens, / jumps to the filters, u goes back to the list,
// b jumps to the decision form, ? shows the help. Ignored while typing in a form field.
(function () {
  "use strict";
  var current = -1;

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("[data-row]")); }

  function select(index) {
    var list = rows();
    if (!list.length) { return; }
    current = Math.max(0, Math.min(index, list.length - 1));
    list.forEach(function (row, i) { row.classList.toggle("selected", i === current); });
    var link = list[current].querySelector("a");
    if (link) { link.focus(); }
  }

  function typing(target) {
    var tag = (target.tagName || "").toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function toggleHelp() {
    var help = document.getElementById("sneltoetsen");
    if (help) { help.hidden = !help.hidden; }
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    var key = event.key;
    if (key === "j") { select(current + 1); event.preventDefault(); }
    else if (key === "k") { select(current - 1); event.preventDefault(); }
    else if (key === "o") {
      var list = rows();
      var row = list[current < 0 ? 0 : current];
      var link = row && row.querySelector("a");
      if (link) { window.location.href = link.href; }
    }
    else if (key === "/") {
      var filter = document.querySelector(".filters select, .filters input");
      if (filter) { filter.focus(); event.preventDefault(); }
    }
    else if (key === "u") {
      var back = document.querySelector("[data-back]");
      if (back) { window.location.href = back.href; }
    }
    else if (key === "b") {
      var form = document.querySelector("#besluit input:not([type=hidden]), #besluit button, #besluit textarea");
      if (form) { form.focus(); event.preventDefault(); }
    }
    else if (key === "?") { toggleHelp(); event.preventDefault(); }
    else if (key === "Escape") {
      var help = document.getElementById("sneltoetsen");
      if (help && !help.hidden) { help.hidden = true; }
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.documentElement.setAttribute("data-keys", "ready");  // lets tests wait for us
    var button = document.querySelector("[data-help]");
    if (button) { button.addEventListener("click", toggleHelp); }
    // Keep the row selection in step with Tab focus, so j/k continue from where the user is.
    rows().forEach(function (row, i) {
      row.addEventListener("focusin", function () {
        current = i;
        rows().forEach(function (r, j) { r.classList.toggle("selected", j === i); });
      });
    });
    var error = document.getElementById("fout");
    if (error) { error.setAttribute("tabindex", "-1"); error.focus(); }
  });
}());
