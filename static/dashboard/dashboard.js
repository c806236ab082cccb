/* Memori dashboard: draws the server-built Plotly figures, wires graph clicks and live refresh.
   Figures arrive as JSON in <script type="application/json"> tags (Django's json_script). */
(function () {
  "use strict";

  function themeColors() {
    var style = getComputedStyle(document.body);
    return {
      fg: style.getPropertyValue("color") || "#222",
      line: getComputedStyle(document.documentElement).getPropertyValue("--line").trim() || "#ccc",
    };
  }

  function themed(layout) {
    var c = themeColors();
    layout = layout || {};
    layout.paper_bgcolor = "rgba(0,0,0,0)";
    layout.plot_bgcolor = "rgba(0,0,0,0)";
    layout.font = Object.assign({ color: c.fg, size: 12 }, layout.font || {});
    layout.xaxis = layout.xaxis || {};
    layout.yaxis = layout.yaxis || {};
    Object.keys(layout).forEach(function (key) {
      if (/^[xy]axis\d*$/.test(key)) {
        layout[key] = Object.assign({ gridcolor: c.line, zerolinecolor: c.line, linecolor: c.line }, layout[key]);
      }
    });
    if (layout.legend) { layout.legend.bgcolor = "rgba(0,0,0,0)"; }
    return layout;
  }

  function draw(el) {
    var source = document.getElementById(el.dataset.figure);
    if (!source || !window.Plotly) { return; }
    var fig = JSON.parse(source.textContent);
    window.Plotly.newPlot(el, fig.data || [], themed(fig.layout), { responsive: true, displaylogo: false })
      .then(function () { el.dataset.rendered = "1"; el.dispatchEvent(new CustomEvent("memori:plotted")); });
    if (el.dataset.nodeUrl) { wireNodeClicks(el); }
  }

  function wireNodeClicks(el) {
    var panel = document.getElementById(el.dataset.nodePanel);
    el.on("plotly_click", function (event) {
      var point = event.points && event.points[0];
      if (!point || point.customdata === undefined || point.customdata === null) { return; }
      var url = el.dataset.nodeUrl.replace("/0/", "/" + encodeURIComponent(point.customdata) + "/");
      var query = window.location.search || "";
      panel.setAttribute("aria-busy", "true");
      fetch(url + query, { credentials: "same-origin" })
        .then(function (r) { return r.text(); })
        .then(function (html) { panel.innerHTML = html; panel.removeAttribute("aria-busy"); });
    });
  }

  function poll(el) {
    var every = parseInt(el.dataset.liveEvery || "4000", 10);
    var status = el.querySelector("[data-live-status]") || document.querySelector("[data-live-status]");
    function tick() {
      var url = el.dataset.liveUrl + (el.dataset.liveUrl.indexOf("?") >= 0 ? "&" : "?") +
        "since=" + encodeURIComponent(el.dataset.liveVersion || "");
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (payload) {
          if (payload && payload.changed) {
            var target = document.getElementById(el.dataset.liveTarget);
            target.innerHTML = payload.html;
            target.querySelectorAll("[data-figure]").forEach(draw);
            el.dataset.liveVersion = payload.version;
          }
          if (status) { status.textContent = "Updated " + new Date().toLocaleTimeString(); }
        })
        .catch(function () { if (status) { status.textContent = "Live refresh paused (server unreachable)"; } })
        .finally(function () { window.setTimeout(tick, every); });
    }
    window.setTimeout(tick, every);
  }

  /* The handoff thread (dashboard/thread/): a live refresh re-renders the calls; the lists the
     operator opened or closed (details[data-key], by a click on their summary) stay that way. */
  function keepChosenDetails(container) {
    var chosen = {};
    container.addEventListener("click", function (event) {
      var summary = event.target.closest("summary");
      var details = summary && summary.parentElement;
      if (details && details.dataset.key) { chosen[details.dataset.key] = !details.open; }
    });
    new MutationObserver(function () {
      container.querySelectorAll("details[data-key]").forEach(function (details) {
        if (details.dataset.key in chosen) { details.open = chosen[details.dataset.key]; }
      });
    }).observe(container, { childList: true });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-figure]").forEach(draw);
    document.querySelectorAll("[data-live-url]").forEach(poll);
    document.querySelectorAll("[data-keep-details]").forEach(keepChosenDetails);
  });
})();
