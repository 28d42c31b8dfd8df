(function () {
  "use strict";
  var tbody = document.querySelector("#models tbody");
  var models = Array.prototype.slice.call(tbody.querySelectorAll("tr.model")).map(
    function (row) {
      return {row: row, card: row.nextElementSibling,
              button: row.querySelector("button.open")};
    });
  var search = document.getElementById("search");
  var minR2 = document.getElementById("min-r2");
  var selects = Array.prototype.slice.call(document.querySelectorAll("#controls select"));
  var count = document.getElementById("count");
  var empty = document.getElementById("empty");

  function matches(row) {
    var q = search.value.trim().toLowerCase();
    if (q && row.dataset.search.indexOf(q) < 0) { return false; }
    for (var i = 0; i < selects.length; i++) {
      var s = selects[i];
      if (s.value && row.dataset[s.dataset.field] !== s.value) { return false; }
    }
    if (minR2.value !== "") {
      var r2 = parseFloat(row.dataset.r2);
      if (!(r2 >= parseFloat(minR2.value))) { return false; }
    }
    return true;
  }

  function apply() {
    var shown = 0;
    models.forEach(function (m) {
      var ok = matches(m.row);
      m.row.hidden = !ok;
      m.card.hidden = !ok || m.button.getAttribute("aria-expanded") !== "true";
      if (ok) { shown++; }
    });
    count.textContent = shown + " of " + models.length + " models";
    empty.hidden = shown > 0;
  }

  function setOpen(m, open) {
    m.button.setAttribute("aria-expanded", open ? "true" : "false");
    m.card.hidden = !open || m.row.hidden;
  }

  models.forEach(function (m) {
    m.button.addEventListener("click", function () {
      setOpen(m, m.button.getAttribute("aria-expanded") !== "true");
    });
  });

  var headers = Array.prototype.slice.call(document.querySelectorAll("#models thead th"));
  headers.forEach(function (th) {
    var b = th.querySelector("button");
    b.addEventListener("click", function () {
      var col = parseInt(b.dataset.col, 10), numeric = b.dataset.type === "num";
      var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
      headers.forEach(function (h) { h.setAttribute("aria-sort", "none"); });
      th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
      function key(m) { return m.row.cells[col].dataset.value; }
      models.sort(function (a, b) {
        var x = key(a), y = key(b);
        if (x === "" || y === "") { return (x === "") - (y === ""); }  // blanks last
        if (numeric) { return dir * (parseFloat(x) - parseFloat(y)); }
        return dir * x.localeCompare(y, undefined, {numeric: true});
      });
      models.forEach(function (m) { tbody.appendChild(m.row); tbody.appendChild(m.card); });
    });
  });

  function openFromHash() {
    var id = decodeURIComponent(location.hash.slice(1));
    models.forEach(function (m) {
      if (id && m.row.dataset.id === id) {
        setOpen(m, true);
        m.row.scrollIntoView();
      }
    });
  }

  search.addEventListener("input", apply);
  minR2.addEventListener("input", apply);
  selects.forEach(function (s) { s.addEventListener("change", apply); });
  document.getElementById("controls").addEventListener("reset", function () {
    setTimeout(apply, 0);  // after the form has cleared its fields
  });
  window.addEventListener("hashchange", openFromHash);
  apply();
  openFromHash();
}());
