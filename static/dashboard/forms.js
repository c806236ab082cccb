/* Memori dashboard forms without inline handlers (the Content-Security-Policy runs no inline code):
   a control with data-autosubmit submits its form when changed (without the fields named in
   data-autosubmit-without); a form with data-confirm="question" asks the question before it is sent. Delegated from the document, so content replaced by the live
   refresh works too. */
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var control = event.target;
    if (!(control.matches && control.matches("[data-autosubmit]") && control.form)) { return; }
    // data-autosubmit-without="start end": fields left out when this control submits (a preset
    // chosen over a custom range the form still shows).
    (control.dataset.autosubmitWithout || "").split(" ").forEach(function (name) {
      var field = name && control.form.elements[name];
      if (field) { field.disabled = true; field.dataset.leftOut = "1"; }
    });
    control.form.submit();
  });

  // Back to this page from the browser's history: the fields left out are part of the form again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("[data-left-out]").forEach(function (field) {
      field.disabled = false;
      delete field.dataset.leftOut;
    });
  });

  document.addEventListener("submit", function (event) {
    var question = event.target.dataset && event.target.dataset.confirm;
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
})();
