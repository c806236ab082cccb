/* Graph Explorer: find a node of the drawing by name. The matching nodes are highlighted (the
   others dimmed), the first is pointed at and its relations open in the side panel, as a click
   on it would (dashboard.js listens for plotly_click). */
(function () {
  "use strict";

  function nodesTrace(plot) {
    var traces = plot.data || [];
    for (var i = 0; i < traces.length; i++) {
      if (traces[i].name === "nodes") { return i; }
    }
    return -1;
  }

  function matches(names, wanted) {
    var exact = [], partial = [];
    names.forEach(function (name, index) {
      var lower = String(name).toLowerCase();
      if (lower === wanted) { exact.push(index); } else if (lower.indexOf(wanted) >= 0) { partial.push(index); }
    });
    return exact.concat(partial);
  }

  function findNode(plot, query, status) {
    var index = nodesTrace(plot);
    if (index < 0) { return; }
    var trace = plot.data[index];
    var names = (trace.meta && trace.meta.names) || [];
    var wanted = query.trim().toLowerCase();
    if (!wanted) {
      window.Plotly.restyle(plot, { selectedpoints: [null] }, [index]);
      window.Plotly.relayout(plot, { annotations: [] });
      status.textContent = "";
      return;
    }
    var found = matches(names, wanted);
    if (!found.length) {
      window.Plotly.restyle(plot, { selectedpoints: [null] }, [index]);
      window.Plotly.relayout(plot, { annotations: [] });
      status.textContent = "No node named “" + query.trim() + "” in this drawing. The Text filter above searches every relation.";
      return;
    }
    var first = found[0];
    window.Plotly.restyle(plot, { selectedpoints: [found], "unselected.marker.opacity": 0.25 }, [index]);
    window.Plotly.relayout(plot, {
      annotations: [{
        x: trace.x[first], y: trace.y[first], text: "<b>" + escapeHtml(names[first]) + "</b>",
        showarrow: true, arrowhead: 2, arrowwidth: 2, arrowcolor: "#D62728", ax: 40, ay: -50,
        bgcolor: "rgba(255,255,255,0.9)", bordercolor: "#D62728", font: { color: "#1d2330" },
      }],
    });
    status.textContent = found.length === 1 ? "Found “" + names[first] + "”." :
      found.length + " nodes match; showing “" + names[first] + "”.";
    if (typeof plot.emit === "function") {
      plot.emit("plotly_click", { points: [{ customdata: trace.customdata[first], pointNumber: first }] });
    }
  }

  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("graph-find");
    var plot = document.getElementById("graph-plot");
    if (!form || !plot) { return; }
    var input = document.getElementById("node-search");
    var status = document.getElementById("node-search-status");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (plot.dataset.rendered === "1") { findNode(plot, input.value, status); }
    });
    input.addEventListener("change", function () {
      if (plot.dataset.rendered === "1") { findNode(plot, input.value, status); }
    });
  });
})();
