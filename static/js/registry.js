// Progressive enhancement for the filing form. Everything works without it:
// rows are added by the server and every conditional field is shown.
(function () {
  "use strict";

  function renumber(row, index) {
    row.querySelectorAll("[name], [id], [for], [aria-describedby]").forEach(function (el) {
      ["name", "id", "for", "aria-describedby"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) el.setAttribute(attr, value.replace(/-\d+-/g, "-" + index + "-"));
      });
    });
    var legend = row.querySelector("legend");
    if (legend) legend.textContent = legend.textContent.replace(/\d+$/, String(index + 1));
  }

  document.querySelectorAll("[data-add-row]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      var list = document.querySelector('[data-rows="' + button.dataset.addRow + '"]');
      if (!list) return;
      var rows = list.querySelectorAll("[data-row]");
      var last = rows[rows.length - 1];
      if (!last) return;
      event.preventDefault();
      var clone = last.cloneNode(true);
      clone.querySelectorAll(".field-errors").forEach(function (e) { e.remove(); });
      clone.querySelectorAll(".has-error").forEach(function (e) { e.classList.remove("has-error"); });
      clone.querySelectorAll("input, textarea, select").forEach(function (el) {
        if (el.tagName === "SELECT") el.selectedIndex = 0; else el.value = "";
        el.removeAttribute("aria-invalid");
      });
      renumber(clone, rows.length);
      list.appendChild(clone);
      var first = clone.querySelector("input, select, textarea");
      if (first) first.focus();
    });
  });

  // Show a group only when the controlling choice has one of the listed values.
  var groups = document.querySelectorAll("[data-show-if]");
  function valueOf(name) {
    var checked = document.querySelector('input[name="' + name + '"]:checked');
    if (checked) return checked.value;
    var select = document.querySelector('select[name="' + name + '"]');
    return select ? select.value : "";
  }
  function update() {
    groups.forEach(function (group) {
      var parts = group.dataset.showIf.split("=");
      var wanted = parts[1].split(",");
      var show = wanted.indexOf(valueOf(parts[0])) !== -1;
      var hasError = group.querySelector(".field-errors");
      group.hidden = !show && !hasError;
    });
  }
  if (groups.length) {
    document.addEventListener("change", update);
    update();
  }

  var summary = document.getElementById("problem-summary");
  if (summary) summary.focus();
})();
