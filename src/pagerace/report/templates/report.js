/* pagerace report: stepping through traces. Every viewer works on its own rows; the
   arrow keys drive the viewer the reader used last (or the one on screen). */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function setup(root) {
    var rows = Array.prototype.slice.call(root.querySelectorAll("tr[data-step]"));
    var templates = {};
    root.querySelectorAll("template").forEach(function (t) {
      var key = t.hasAttribute("data-map") ? "map" + t.getAttribute("data-map")
                                           : "tables" + t.getAttribute("data-tables");
      templates[key] = t;
    });
    function part(role) { return root.querySelector('[data-role="' + role + '"]'); }
    var cur = 0;
    var api = {root: root};

    function fill(el, tpl) {
      if (el && tpl) { el.replaceChildren(tpl.content.cloneNode(true)); }
    }
    function show(i) {
      if (!rows.length) { return; }
      i = Math.max(0, Math.min(rows.length - 1, i));
      cur = i;
      rows.forEach(function (r, k) {
        r.classList.toggle("current", k === i);
        if (k === i) { r.setAttribute("aria-current", "step"); } else { r.removeAttribute("aria-current"); }
      });
      var row = rows[i];
      part("step-index").textContent = row.getAttribute("data-step");
      part("caption").textContent = row.getAttribute("data-caption");
      fill(part("map"), templates["map" + row.getAttribute("data-map")]);
      fill(part("tables"), templates["tables" + row.getAttribute("data-tables")]);
      var cell = row.querySelector("td.active .step-cell");
      var detail = part("detail");
      detail.replaceChildren();
      if (cell) { detail.appendChild(cell.cloneNode(true)); }
      part("prev").disabled = part("first").disabled = i === 0;
      part("next").disabled = part("last").disabled = i === rows.length - 1;
      root.setAttribute("data-current", String(i));
      if (row.scrollIntoView && api.scrolled) { row.scrollIntoView({block: "nearest"}); }
    }
    api.show = show;
    api.step = function (d) { api.scrolled = true; show(cur + d); };
    api.last = function () { return rows.length - 1; };
    function use(fn) { return function () { active = api; fn(); }; }
    part("next").addEventListener("click", use(function () { api.step(1); }));
    part("prev").addEventListener("click", use(function () { api.step(-1); }));
    part("first").addEventListener("click", use(function () { show(0); }));
    part("last").addEventListener("click", use(function () { show(rows.length - 1); }));
    rows.forEach(function (r, k) {
      r.addEventListener("click", use(function () { show(k); }));
    });
    show(0);
    return api;
  }

  var viewers = Array.prototype.slice.call(document.querySelectorAll(".viewer")).map(setup);
  var active = viewers.length ? viewers[0] : null;

  document.addEventListener("keydown", function (e) {
    if (!active || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) { return; }
    var tag = e.target && e.target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") { return; }
    if (e.key === "ArrowRight") { active.step(1); }
    else if (e.key === "ArrowLeft") { active.step(-1); }
    else if (e.key === "Home") { active.show(0); }
    else if (e.key === "End") { active.show(active.last()); }
    else { return; }
    e.preventDefault();
  });

  /* A matrix shows one cell's trace at a time: the one named by the URL fragment. */
  if (document.body.getAttribute("data-report") === "matrix") {
    var sections = Array.prototype.slice.call(document.querySelectorAll(".trace-section"));
    var hint = document.getElementById("pick-hint");
    var select = function () {
      var id = decodeURIComponent(location.hash.slice(1));
      var shown = null;
      sections.forEach(function (s) {
        var on = s.id === id;
        s.hidden = !on;
        if (on) { shown = s; }
      });
      document.querySelectorAll("td.cell").forEach(function (td) {
        td.classList.toggle("selected", td.id === id + "-cell");
      });
      if (hint) { hint.hidden = shown !== null || sections.length === 0; }
      viewers.forEach(function (v) { if (shown && shown.contains(v.root)) { active = v; } });
      if (!shown) { active = null; }
    };
    window.addEventListener("hashchange", select);
    select();
  }
})();
