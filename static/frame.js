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
    var height = Math.ceil(document.documentElement.scrollHeight);
    window.parent.postMessage({ subject: "lti.frameResize", height: height }, "*");
  }
  window.addEventListener("load", resize);
  if (window.ResizeObserver) { new ResizeObserver(resize).observe(document.body); }
}());
