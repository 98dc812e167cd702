// LTI client-side postMessage storage (platform storage), for a tool frame whose cookies are blocked.
// Login (data-mode="login"): ask the platform window for lti.capabilities; when it supports
// lti.put_data, keep the state and the nonce there and go on to the LMS; when it does not answer,
// go through the tool's /lti/login/continue, which sets a state cookie instead.
// Launch (data-mode="verify"): read the state and the nonce back with lti.get_data and post them to
// the tool, which compares them with what it kept for this login.
(function () {
  "use strict";
  var el = document.getElementById("lti-storage");
  if (!el) { return; }
  var d = el.dataset;
  var TIMEOUT_MS = 1500;
  var platformOrigin = d.platformOrigin;
  var pending = {};
  var counter = 0;

  function platformWindow() {
    if (window.parent && window.parent !== window) { return window.parent; }
    return window.opener || null;
  }

  function storageFrame(name) {
    var w = platformWindow();
    if (!w) { return null; }
    if (!name || name === "_parent") { return w; }
    try { return w.frames[name] || null; } catch (e) { return null; }
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (typeof data === "string") { try { data = JSON.parse(data); } catch (e) { return; } }
    if (!data || typeof data.message_id !== "string" || !pending[data.message_id]) { return; }
    var p = pending[data.message_id];
    if (p.origin !== "*" && event.origin !== p.origin) { return; }
    if (data.subject !== p.subject + ".response") { return; }
    delete pending[data.message_id];
    clearTimeout(p.timer);
    if (data.error) { p.reject(new Error(String(data.error.code || "error"))); } else { p.resolve(data); }
  });

  // Send a message to `target` and wait for its .response. Answers are accepted only from
  // `origin` (the platform's OIDC origin); "*" only for lti.capabilities, which carries no secret.
  function send(target, origin, message) {
    return new Promise(function (resolve, reject) {
      if (!target) { reject(new Error("no platform window")); return; }
      counter += 1;
      var id = "lti-tool-" + counter + "-" + Math.random().toString(36).slice(2);
      message.message_id = id;
      pending[id] = {
        subject: message.subject, origin: origin, resolve: resolve, reject: reject,
        timer: setTimeout(function () { delete pending[id]; reject(new Error("timeout")); }, TIMEOUT_MS)
      };
      try { target.postMessage(message, origin); } catch (e) { delete pending[id]; reject(e); }
    });
  }

  function supported(caps, subject) {
    var list = (caps && caps.supported_messages) || [];
    for (var i = 0; i < list.length; i += 1) { if (list[i] && list[i].subject === subject) { return list[i]; } }
    return null;
  }

  function login() {
    var frameName = d.target;
    send(platformWindow(), "*", { subject: "lti.capabilities" }).then(function (caps) {
      var put = supported(caps, "lti.put_data");
      if (!put || !supported(caps, "lti.get_data")) { throw new Error("no platform storage"); }
      if (put.frame) { frameName = put.frame; }
      var frame = storageFrame(frameName);
      return send(frame, platformOrigin, { subject: "lti.put_data", key: d.stateKey, value: d.state }).then(function () {
        return send(frame, platformOrigin, { subject: "lti.put_data", key: d.nonceKey, value: d.nonce });
      });
    }).then(function () {
      window.location.assign(d.authUrl);
    }, function () {
      window.location.assign(d.continueUrl);
    });
  }

  function verify() {
    var frame = storageFrame(d.target);
    var form = document.getElementById("lti-storage-verify");
    var got = {};
    send(frame, platformOrigin, { subject: "lti.get_data", key: d.stateKey }).then(function (answer) {
      got.state = answer.value;
      return send(frame, platformOrigin, { subject: "lti.get_data", key: d.nonceKey });
    }).then(function (answer) {
      got.nonce = answer.value;
      if (typeof got.state !== "string" || typeof got.nonce !== "string" || !got.state || !got.nonce) {
        throw new Error("not stored");
      }
      form.elements.lti_storage_state.value = got.state;
      form.elements.lti_storage_nonce.value = got.nonce;
      form.submit();
    }).catch(function () {
      document.getElementById("lti-storage-status").hidden = true;
      document.getElementById("lti-storage-failed").hidden = false;
    });
  }

  if (d.mode === "login") { login(); } else if (d.mode === "verify") { verify(); }
}());
