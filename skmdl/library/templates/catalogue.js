(function () {
  "use strict";
  // Everything below is built from the JSON block with textContent: no markup from data.
  var data = JSON.parse(document.getElementById("catalogue-data").textContent);
  var pool = data.pool, columns = data.columns, groupColumns = data.group_columns;
  var table = document.getElementById("groups"), tbody = table.tBodies[0];
  var search = document.getElementById("search");
  var minR2 = document.getElementById("min-r2");
  var selects = Array.prototype.slice.call(document.querySelectorAll("#controls select"));
  var count = document.getElementById("count");
  var empty = document.getElementById("empty");
  var more = document.getElementById("more");
  var limit = data.page;  // property rows on the page: the first matches, a page more on demand
  var collator = new Intl.Collator(undefined, {numeric: true});

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function cellClass(column) {
    return column[2] === "num" ? "num" : (data.long.indexOf(column[0]) >= 0 ? "long" : "");
  }

  function opener(text, title, onClick) {
    var button = el("button", "open", text);
    button.type = "button";
    button.title = title;
    button.setAttribute("aria-expanded", "false");
    button.addEventListener("click", onClick);
    return button;
  }

  // ------------------------------------------------------------ data
  var models = data.models.map(function (record, index) {
    var m = {index: index, ok: true, open: false, row: null, card: null};
    data.fields.forEach(function (field, k) { m[field] = record[k]; });
    return m;
  });
  var byId = Object.create(null);
  models.forEach(function (m) { byId[m.id] = m; });

  var groups = data.groups.map(function (record) {
    var g = {property: record.property, cells: record.cells, keys: record.keys,
             open: false, row: null, detail: null, shown: 0};
    g.models = record.models.map(function (i) { return models[i]; });
    g.models.forEach(function (m) {
      m.group = g;
      m.hay = [m.id, g.property, m.quantity, m.fidelity, m.task, m.descriptor]
        .join(" ").toLowerCase();
    });
    return g;
  });

  // ------------------------------------------------------------ rows
  function groupRow(g) {
    var tr = el("tr", "group");
    tr.dataset.property = g.property;
    g.button = opener(g.property || "(no property)", "list the models",
                      function () { setGroupOpen(g, !g.open); });
    groupColumns.forEach(function (column, k) {
      var td = tr.appendChild(el("td", cellClass(column)));
      if (k === 0) { td.appendChild(g.button); } else { td.textContent = g.cells[k]; }
    });
    return tr;
  }

  function detailRow(g) {
    var tr = el("tr", "models-row"), td = tr.appendChild(el("td"));
    td.colSpan = groupColumns.length;
    var inner = td.appendChild(el("table", "models"));
    inner.setAttribute("aria-label", "models of " + g.property);
    var head = inner.appendChild(el("thead")).appendChild(el("tr"));
    columns.forEach(function (column) {
      head.appendChild(el("th", cellClass(column), column[1])).scope = "col";
    });
    var body = inner.appendChild(el("tbody"));
    g.models.forEach(function (m) { m.row = body.appendChild(modelRow(m)); });
    return tr;
  }

  function modelRow(m) {
    var tr = el("tr", "model");
    tr.dataset.id = m.id;
    m.button = opener(m.id, "show the model card", function () { setCardOpen(m, !m.open); });
    columns.forEach(function (column) {
      var td = tr.appendChild(el("td", cellClass(column)));
      if (column[0] === "id") { td.appendChild(m.button); } else { td.textContent = m[column[0]]; }
    });
    return tr;
  }

  function cardRow(m) {
    var tr = el("tr", "card-row"), td = tr.appendChild(el("td"));
    tr.id = "card-" + m.id;
    td.colSpan = columns.length;
    var article = td.appendChild(el("article", "card"));
    article.setAttribute("aria-label", "card of " + m.id);
    article.appendChild(el("h2", "", m.id));
    var sections = article.appendChild(el("div", "sections"));
    unpack(data.cards[m.index]).forEach(function (s) {
      var section = sections.appendChild(el("section"));
      section.appendChild(el("h3", "", s[0]));
      section.appendChild(fieldList(s[1], s[2] === "code"));
    });
    return tr;
  }

  // ------------------------------------------------------------ cards
  function unpack(x) {  // numbers are places in the pool; every leaf is a string
    if (typeof x === "number") { x = pool[x]; }
    if (typeof x === "string") { return x; }
    if (Array.isArray(x)) { return x.map(unpack); }
    var out = {};
    Object.keys(x).forEach(function (k) { out[k] = unpack(x[k]); });
    return out;
  }

  function fieldList(fields, code) {
    var dl = el("dl");
    fields.forEach(function (f) {
      dl.appendChild(el("dt", "", f[0]));
      showValue(dl.appendChild(el("dd")), f[1], code);
    });
    return dl;
  }

  function showValue(parent, value, code) {
    if (typeof value === "string") {
      parent.appendChild(code ? el("code", "", value) : document.createTextNode(value));
    } else if ("dl" in value) {
      parent.appendChild(fieldList(value.dl, code));
    } else {  // a long list, folded
      var details = parent.appendChild(el("details", "list"));
      details.appendChild(el("summary", "", value.n + " items"));
      showValue(details, value.fold, code);
    }
  }

  // ------------------------------------------------------------ opening
  function setGroupOpen(g, open) {
    g.open = open;
    g.button.setAttribute("aria-expanded", open ? "true" : "false");
    if (open && !g.detail) {
      g.detail = detailRow(g);
      tbody.insertBefore(g.detail, g.row.nextSibling);
    }
    if (g.detail) { showModels(g); }
  }

  function setCardOpen(m, open) {
    m.open = open;
    m.button.setAttribute("aria-expanded", open ? "true" : "false");
    if (open && !m.card) {
      m.card = cardRow(m);
      m.row.parentNode.insertBefore(m.card, m.row.nextSibling);
    }
    if (m.card) { m.card.hidden = !open || !m.ok; }
  }

  function showModels(g) {
    g.detail.hidden = !g.open || g.shown === 0;
    g.models.forEach(function (m) {
      m.row.hidden = !m.ok;
      if (m.card) { m.card.hidden = !m.open || !m.ok; }
    });
  }

  // ------------------------------------------------------------ filtering
  function currentFilter() {
    var min = parseFloat(minR2.value);
    return {
      q: search.value.trim().toLowerCase(),
      min: isNaN(min) ? null : min,
      selects: selects.filter(function (s) { return s.value; }).map(function (s) {
        return [s.dataset.field, s.value];
      })
    };
  }

  function matches(m, f) {
    if (f.q && m.hay.indexOf(f.q) < 0) { return false; }
    for (var i = 0; i < f.selects.length; i++) {
      var field = f.selects[i][0];
      var value = field === "property" ? m.group.property : m[field];
      if (value !== f.selects[i][1]) { return false; }
    }
    return f.min === null || (m.r2_value !== null && m.r2_value >= f.min);
  }

  function apply() {
    var f = currentFilter(), shownGroups = 0, shownModels = 0;
    groups.forEach(function (g) {
      g.shown = 0;
      g.models.forEach(function (m) {
        m.ok = matches(m, f);
        if (m.ok) { g.shown++; }
      });
      if (g.detail) { showModels(g); }
      if (g.shown) { shownGroups++; shownModels += g.shown; }
    });
    count.textContent = shownGroups + " of " + groups.length + " properties, " +
      shownModels + " of " + models.length + " models";
    empty.hidden = shownGroups > 0;
    limit = data.page;
    render();
  }

  function render() {  // the first `limit` matching properties, in order, with their open models
    var rows = document.createDocumentFragment(), n = 0, left = 0;
    groups.forEach(function (g) {
      if (!g.shown) { return; }
      if (n++ >= limit) { left++; return; }
      if (!g.row) { g.row = groupRow(g); }
      rows.appendChild(g.row);
      if (g.detail) { rows.appendChild(g.detail); }
    });
    tbody.textContent = "";
    tbody.appendChild(rows);
    more.hidden = left === 0;
    more.textContent = "show " + Math.min(left, data.page) + " more (" + left + " not shown)";
  }

  // ------------------------------------------------------------ sorting
  var headers = Array.prototype.slice.call(table.tHead.querySelectorAll("th"));

  function sortBy(th, col, numeric) {
    var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
    headers.forEach(function (h) { h.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
    groups.sort(function (a, b) {
      var x = a.keys[col], y = b.keys[col];
      if (x === null || y === null) { return (x === null) - (y === null); }  // blanks last
      return dir * (numeric ? x - y : collator.compare(x, y));
    });
    render();
  }

  headers.forEach(function (th) {
    var b = th.querySelector("button");
    b.addEventListener("click", function () {
      sortBy(th, parseInt(b.dataset.col, 10), b.dataset.type === "num");
    });
  });

  // ------------------------------------------------------------ start
  function openFromHash() {
    var m = byId[decodeURIComponent(location.hash.slice(1))];
    if (!m) { return; }
    if (!m.ok || rank(m.group) >= limit) {  // filtered out or beyond the rows shown: find it
      clearFilters();
      search.value = m.id;
      apply();
    }
    setGroupOpen(m.group, true);
    setCardOpen(m, true);
    m.row.scrollIntoView();
  }

  function clearFilters() {
    search.value = "";
    minR2.value = "";
    selects.forEach(function (s) { s.value = ""; });
  }

  function rank(g) {  // place of a matching property among those matching
    for (var i = 0, n = 0; groups[i] !== g; i++) {
      if (groups[i].shown) { n++; }
    }
    return n;
  }

  var form = document.getElementById("controls");
  more.addEventListener("click", function () {
    limit += data.page;
    render();
  });
  table.hidden = false;
  search.addEventListener("input", apply);
  minR2.addEventListener("input", apply);
  selects.forEach(function (s) { s.addEventListener("change", apply); });
  form.addEventListener("reset", function (event) {
    event.preventDefault();  // cleared here, so that the filtering follows at once
    clearFilters();
    apply();
  });
  window.addEventListener("hashchange", openFromHash);
  apply();
  openFromHash();
}());
