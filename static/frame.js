// Runs inside the LMS frame: tells Canvas (and any platform that listens) how tall the page is,
// and sends the launch token with every fetch so no third-party cookie is needed.
(function () {
  "use strict";
  var launch = document.getElementById("launch");
  window.ltiTool = {
    launchToken: launch ? launch.dataset.launchToken : null,
    csrfToken: launch ? launch.dataset.csrfToken : null,
    headers: function (extra) {
      var h = Object.assign({ "X-Launch-Token": this.launchToken, "X-CSRF-Token": this.csrfToken }, extra || {});
      return h;
    }
  };
  function resize() {
    if (window.parent === window) { return; }
    // The body's height, not the document's scrollHeight: that one never drops below the frame's
    // current height, so the frame could grow but never shrink back (after a row is removed).
    var body = document.body, style = window.getComputedStyle(body);
    var height = Math.ceil(Math.max(body.scrollHeight, body.getBoundingClientRect().height) +
                           parseFloat(style.marginTop) + parseFloat(style.marginBottom));
    window.parent.postMessage({ subject: "lti.frameResize", height: height }, "*");
  }
  window.addEventListener("load", resize);
  if (window.ResizeObserver) { new ResizeObserver(resize).observe(document.body); }
}());
