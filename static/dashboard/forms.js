/* Memori dashboard forms without inline handlers (the Content-Security-Policy runs no inline code):
   a control with data-autosubmit submits its form when changed; a form with data-confirm="question"
   asks the question before it is sent. Delegated from the document, so content replaced by the live
   refresh works too. */
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var control = event.target;
    if (control.matches && control.matches("[data-autosubmit]") && control.form) { control.form.submit(); }
  });

  document.addEventListener("submit", function (event) {
    var question = event.target.dataset && event.target.dataset.confirm;
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
})();
