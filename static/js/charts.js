/* Draws every dashboard figure: a div.chart[data-plot] names the <script type="application/json">
   (Django's json_script) holding its {data, layout}; plotly.js (served by the project, never a
   CDN) renders it. A point whose customdata is a path ("/clients/12/...") opens that page:
   the figures' drill-down to clients and to source rows. */
(function () {
  "use strict";

  function linkOf(point) {
    var c = point && point.customdata;
    if (Array.isArray(c)) { c = c[0]; }
    return typeof c === "string" && c.charAt(0) === "/" ? c : null;
  }

  function draw(div) {
    var source = document.getElementById(div.dataset.plot);
    if (!source || typeof Plotly === "undefined") { return; }
    var fig = JSON.parse(source.textContent);
    if (!fig) { return; }
    var config = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"] };
    Plotly.newPlot(div, fig.data, fig.layout, config).then(function () {
      div.classList.add("chart-ready");
      div.on("plotly_click", function (event) {
        var href = event && event.points && event.points.length ? linkOf(event.points[0]) : null;
        if (href) { window.location.assign(href); }
      });
    });
  }

  function drawAll() {
    document.querySelectorAll(".chart[data-plot]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
