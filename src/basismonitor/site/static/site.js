/* Basismonitor compass pages: search on the overview, tooltips on the compass cells.
   Loads nothing: everything the script needs is in the page (works from file://). */
(function () {
  "use strict";

  function norm(text) {
    return (text || "").toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "").trim();
  }

  /* --- overview: filter the list and the map by name or code --- */
  var search = document.getElementById("search");
  if (search) {
    var rows = Array.prototype.slice.call(document.querySelectorAll("#areas tbody tr"));
    var shapes = Array.prototype.slice.call(document.querySelectorAll(".map [data-code]"));
    var count = document.getElementById("search-count");
    var apply = function () {
      var q = norm(search.value);
      var visible = {};
      var shown = 0;
      rows.forEach(function (tr) {
        var hit = !q || tr.getAttribute("data-search").indexOf(q) !== -1;
        tr.hidden = !hit;
        if (hit) { shown += 1; visible[tr.getAttribute("data-code")] = true; }
      });
      shapes.forEach(function (el) {
        el.classList.toggle("dim", !!q && !visible[el.getAttribute("data-code")]);
      });
      if (count) { count.textContent = shown + " van " + rows.length + " wijken"; }
    };
    search.addEventListener("input", apply);
    apply();
  }

  /* --- compass pages: a tooltip per cell, built from the cell's row in the table --- */
  var tip = document.getElementById("tip");
  if (!tip) { return; }
  var cells = Array.prototype.slice.call(document.querySelectorAll("svg.compass .cell"));
  var pinned = null;

  function rowOf(cell) { return document.getElementById(cell.getAttribute("data-row")); }

  function fillTip(tr) {
    var table = tr.closest("table");
    var heads = table.tHead.rows[table.tHead.rows.length - 1].cells;
    tip.textContent = "";
    var title = document.createElement("strong");
    title.textContent = tr.cells[0].getAttribute("data-label") || tr.cells[0].textContent;
    tip.appendChild(title);
    var dl = document.createElement("dl");
    for (var i = 1; i < tr.cells.length && i < heads.length; i += 1) {
      var td = tr.cells[i];
      if (td.classList.contains("nt")) { continue; }
      var text = td.textContent.replace(/\s+/g, " ").trim();
      if (!text || text === "\u2013") { continue; }
      var dt = document.createElement("dt");
      dt.textContent = heads[i].textContent;
      var dd = document.createElement("dd");
      dd.textContent = text;
      dl.appendChild(dt);
      dl.appendChild(dd);
    }
    tip.appendChild(dl);
  }

  function place(x, y) {
    tip.hidden = false;
    var w = tip.offsetWidth, h = tip.offsetHeight;
    var maxX = window.scrollX + document.documentElement.clientWidth - w - 8;
    var left = Math.max(window.scrollX + 8, Math.min(x + 14, maxX));
    var top = y + 16;
    if (top + h > window.scrollY + document.documentElement.clientHeight) { top = y - h - 12; }
    tip.style.left = left + "px";
    tip.style.top = Math.max(window.scrollY + 4, top) + "px";
  }

  function highlight(cell, on) {
    var tr = rowOf(cell);
    cell.classList.toggle("hl", on);
    if (tr) { tr.classList.toggle("hl", on); }
  }

  function show(cell, x, y) {
    var tr = rowOf(cell);
    if (!tr) { return; }
    fillTip(tr);
    place(x, y);
  }

  function showAtCell(cell) {
    /* next to the cell, so the tooltip does not cover it */
    var box = cell.getBoundingClientRect();
    show(cell, window.scrollX + box.right, window.scrollY + box.top + box.height / 2 - 16);
  }

  function hide() { tip.hidden = true; }

  cells.forEach(function (cell) {
    cell.addEventListener("mousemove", function (e) {
      if (pinned) { return; }
      show(cell, e.pageX, e.pageY);
    });
    cell.addEventListener("mouseenter", function () { highlight(cell, true); });
    cell.addEventListener("mouseleave", function () {
      highlight(cell, false);
      if (!pinned) { hide(); }
    });
    cell.addEventListener("focus", function () { highlight(cell, true); showAtCell(cell); });
    cell.addEventListener("blur", function () {
      highlight(cell, false);
      if (pinned === cell) { pinned = null; }
      hide();
    });
    cell.addEventListener("click", function (e) {
      e.stopPropagation();
      if (pinned === cell) { pinned = null; hide(); return; }
      pinned = cell;
      show(cell, e.pageX, e.pageY);
    });
    cell.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        var tr = rowOf(cell);
        if (tr) {
          tr.scrollIntoView({block: "center"});
          tr.classList.add("hl");
          window.setTimeout(function () { tr.classList.remove("hl"); }, 2000);
        }
      }
    });
  });
  /* one tab stop per compass: arrow keys move between its cells (roving tabindex).
     Left/right: the previous/next cell of the same ring (round the ring); up/down: the cell of the
     ring outside/inside at the same angle; Home: the centre. */
  function ringOf(cell) { return Number(cell.getAttribute("data-ring")); }
  function span(cell) {
    return [Number(cell.getAttribute("data-a0")), Number(cell.getAttribute("data-a1"))];
  }
  function neighbour(cell, key) {
    var svg = cell.ownerSVGElement;
    var all = Array.prototype.slice.call(svg.querySelectorAll(".cell"));
    var ring = ringOf(cell);
    var a = span(cell), mid = (a[0] + a[1]) / 2;
    if (key === "Home") { return all.filter(function (c) { return ringOf(c) === 0; })[0] || all[0]; }
    if (key === "End") { return all[all.length - 1]; }
    if (key === "ArrowLeft" || key === "ArrowRight") {
      var same = all.filter(function (c) { return ringOf(c) === ring; });
      same.sort(function (x, y) { return span(x)[0] - span(y)[0]; });
      var i = same.indexOf(cell) + (key === "ArrowRight" ? 1 : -1);
      return same[(i + same.length) % same.length];
    }
    var target = ring + (key === "ArrowUp" ? 1 : -1);
    var best = null, bestDistance = Infinity;
    all.forEach(function (c) {
      if (ringOf(c) !== target) { return; }
      var s = span(c);
      var d = (mid >= s[0] && mid <= s[1]) ? 0 : Math.min(Math.abs(mid - s[0]), Math.abs(mid - s[1]));
      if (d < bestDistance) { best = c; bestDistance = d; }
    });
    return best;
  }
  var MOVES = {ArrowLeft: 1, ArrowRight: 1, ArrowUp: 1, ArrowDown: 1, Home: 1, End: 1};
  cells.forEach(function (cell) {
    cell.addEventListener("keydown", function (e) {
      if (!MOVES[e.key]) { return; }
      var next = neighbour(cell, e.key);
      e.preventDefault();
      if (!next || next === cell) { return; }
      cell.setAttribute("tabindex", "-1");
      next.setAttribute("tabindex", "0");
      next.focus();
    });
  });

  document.addEventListener("click", function () { pinned = null; hide(); });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { pinned = null; hide(); }
  });

  /* a table row highlights its cell in the compass */
  var byRow = {};
  cells.forEach(function (cell) { byRow[cell.getAttribute("data-row")] = cell; });
  Array.prototype.forEach.call(document.querySelectorAll("table.ind tbody tr"), function (tr) {
    var cell = byRow[tr.id];
    if (!cell) { return; }
    tr.addEventListener("mouseenter", function () { cell.classList.add("hl"); });
    tr.addEventListener("mouseleave", function () { cell.classList.remove("hl"); });
  });
}());
