/* The practice LMS's "register by URL" page: like Moodle and Canvas, it waits for the tool's page in
 * the #registration frame to post {subject: "org.imsglobal.lti.close"} and then says the registration
 * is finished (#registration-status, a live region), with a link to the list of registered tools. */
(function () {
  "use strict";

  var frame = document.getElementById("registration");
  var status = document.getElementById("registration-status");
  if (!frame || !status) {
    return;
  }
  window.addEventListener("message", function (event) {
    if (event.source !== frame.contentWindow) {
      return;
    }
    var data = event.data;
    if (typeof data === "string") {
      try { data = JSON.parse(data); } catch (e) { return; }
    }
    if (!data || data.subject !== "org.imsglobal.lti.close") {
      return;
    }
    status.textContent = "The tool finished the registration (org.imsglobal.lti.close from " + event.origin + ").";
    status.dataset.closed = "true";
    var after = document.getElementById("after-close");
    if (after) { after.hidden = false; }
  });
}());
