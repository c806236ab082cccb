/* Process View: find a process by name (cards that do not match are hidden, a single match is
   opened), and expand or collapse every card at once. */
(function () {
  "use strict";

  function cards() {
    return Array.prototype.slice.call(document.querySelectorAll("#process-cards details.process"));
  }

  function filterCards(query, status) {
    var wanted = query.trim().toLowerCase();
    var all = cards();
    var shown = all.filter(function (card) {
      var match = !wanted || card.dataset.process.toLowerCase().indexOf(wanted) >= 0;
      card.hidden = !match;
      return match;
    });
    if (wanted && shown.length === 1) { shown[0].open = true; }
    if (!wanted) {
      status.textContent = all.length + " processes";
    } else if (!shown.length) {
      status.textContent = "No process matches “" + query.trim() + "”.";
    } else {
      status.textContent = shown.length + " of " + all.length + " processes match";
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var tools = document.getElementById("process-tools");
    if (!tools) { return; }
    var input = document.getElementById("process-search");
    var status = document.getElementById("process-search-status");
    input.addEventListener("input", function () { filterCards(input.value, status); });
    tools.querySelectorAll("[data-cards]").forEach(function (button) {
      button.addEventListener("click", function () {
        var open = button.dataset.cards === "open";
        cards().forEach(function (card) { if (!card.hidden) { card.open = open; } });
      });
    });
    if (window.location.hash) {  // a link to one process's card opens it
      var target = document.getElementById(window.location.hash.slice(1));
      if (target && target.tagName === "DETAILS") { target.open = true; }
    }
  });
})();
