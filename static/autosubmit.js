// Sends a form marked data-autosubmit as soon as the page has loaded (the deep linking answer to the
// LMS). Without scripts, the form's own Continue button does the same.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosubmit]");
  if (form) { form.submit(); }
}());
