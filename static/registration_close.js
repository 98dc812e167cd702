// The last step of LTI Dynamic Registration: tell the LMS that opened this page (in a frame or a
// window) that the registration is done, so it closes the dialog and shows its own next step.
// targetOrigin "*": the message carries nothing secret, and the LMS's origin is not known here.
(function () {
  "use strict";
  var CLOSE = { subject: "org.imsglobal.lti.close" };

  function platformWindow() {
    if (window.opener && window.opener !== window) { return window.opener; }
    if (window.parent && window.parent !== window) { return window.parent; }
    return null;
  }

  function notify() {
    var target = platformWindow();
    if (!target) { return false; }
    try {
      target.postMessage(CLOSE, "*");
    } catch (e) {
      return false;
    }
    return true;
  }

  var sent = notify();
  var button = document.getElementById("registration-close");
  if (sent && button) {
    // The LMS normally closes the dialog at once; if it does not, this sends the message again.
    button.hidden = false;
    button.addEventListener("click", function () {
      notify();
      if (window.opener) { window.close(); }
    });
  }
}());
