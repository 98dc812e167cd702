// Worksheet #6 in the page: autosave while typing, row buttons, live checklist, conflicts between tabs.
// Everything here is an enhancement: with scripts off the same form posts to the server and works.
(function () {
  "use strict";
  var section = document.getElementById("worksheet");
  var form = document.getElementById("worksheet-form");
  if (!section || !form) { return; }

  var rule = JSON.parse(section.dataset.rule);
  var text = JSON.parse(section.dataset.i18n || "{}");
  var url = section.dataset.autosaveUrl;
  var list = document.getElementById("ws-rows");
  var status = document.getElementById("save-status");
  var baseInput = form.querySelector("input[name=base_version]");
  var csrfInput = form.querySelector("input[name=csrf_token]");
  var tokenInput = form.querySelector("input[name=launch_token]");
  var maxRows = parseInt(list.dataset.maxRows, 10);
  var DEBOUNCE_MS = 1200;
  var timer = null, inFlight = false, dirty = false, retryDelay = 0, pendingAction = null;

  function t(key, value) { return (text[key] || key).replace("%s", value === undefined ? "" : value); }
  function say(message) { status.textContent = message; }
  function clock(iso) {
    var d = iso ? new Date(iso) : new Date();
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  // --- reading the form -------------------------------------------------------------------------
  function rowValues(li) {
    var values = {};
    li.querySelectorAll("[data-col]").forEach(function (el) {
      var col = el.dataset.col;
      if (el.type === "radio") { if (el.checked) { values[col] = el.value; } else if (!(col in values)) { values[col] = ""; } }
      else { values[col] = el.value; }
    });
    return values;
  }
  function collect() {
    var rows = Array.prototype.map.call(list.querySelectorAll(".ws-row"), rowValues);
    var answers = {};
    form.querySelectorAll("[data-question]").forEach(function (el) { answers[el.dataset.question] = el.value; });
    return { rows: rows, answers: answers };
  }

  // --- checklist (same rule as the server's) -----------------------------------------------------
  function filled(v) { return typeof v === "string" && v.trim() !== ""; }
  function updateChecklist() {
    var data = collect();
    var goodRows = data.rows.filter(function (r) { return rule.row_requires.every(function (c) { return filled(r[c]); }); });
    var states = { rows: goodRows.length >= rule.min_rows };
    rule.questions.forEach(function (q) { states["question-" + q] = filled(data.answers[q]); });
    document.querySelectorAll("#checklist li[data-item]").forEach(function (li) {
      var done = !!states[li.dataset.item];
      li.className = done ? "done" : "todo";
      li.querySelector(".mark").textContent = done ? "\u2713" : "\u25cb";
      li.querySelector(".state").textContent = done ? t("Done:") : t("To do:");
    });
  }

  // --- rows -------------------------------------------------------------------------------------
  function renumber() {
    var rows = list.querySelectorAll(".ws-row");
    rows.forEach(function (li, i) {
      li.dataset.index = i;
      li.querySelector(".row-number").textContent = String(i + 1);
      li.querySelectorAll("[name],[id],[for],[aria-describedby]").forEach(function (el) {
        ["name", "id", "for", "aria-describedby"].forEach(function (attr) {
          var v = el.getAttribute(attr);
          if (v) { el.setAttribute(attr, v.replace(/rows-\d+-/g, "rows-" + i + "-")); }
        });
      });
      li.querySelectorAll("[data-row-action]").forEach(function (b) {
        b.value = b.dataset.rowAction + "-" + i;
        var hidden = b.querySelector(".visually-hidden");
        if (hidden) { hidden.textContent = hidden.textContent.replace(/\d+\)$/, (i + 1) + ")"); }
      });
      li.querySelector("[data-row-action=up]").disabled = i === 0;
      li.querySelector("[data-row-action=down]").disabled = i === rows.length - 1;
    });
    document.getElementById("add-row").disabled = rows.length >= maxRows;
  }
  function clearRow(li) {
    li.querySelectorAll("[data-col]").forEach(function (el) {
      if (el.type === "radio") { el.checked = false; } else { el.value = ""; }
      el.removeAttribute("aria-invalid");
    });
    li.querySelectorAll(".field-error").forEach(function (p) { p.remove(); });
  }
  function addRow() {
    var rows = list.querySelectorAll(".ws-row");
    if (rows.length >= maxRows) { return; }
    var li = rows[rows.length - 1].cloneNode(true);
    clearRow(li);
    list.appendChild(li);
    renumber();
    li.querySelector("input[type=text], textarea").focus();
    say(t("Partnership %s added.", rows.length + 1));
    changed();
  }
  function rowAction(button) {
    var li = button.closest(".ws-row");
    var action = button.dataset.rowAction;
    var focusTarget = null;
    if (action === "remove") {
      var rows = list.querySelectorAll(".ws-row");
      var next = li.nextElementSibling || li.previousElementSibling;
      if (rows.length === 1) { clearRow(li); focusTarget = li.querySelector("[data-col]"); }
      else { li.remove(); focusTarget = next.querySelector("[data-row-action=remove]"); }
      say(t("Partnership removed."));
    } else if (action === "up" && li.previousElementSibling) {
      list.insertBefore(li, li.previousElementSibling);
      focusTarget = li.querySelector("[data-row-action=up]:not([disabled])") || li.querySelector("[data-row-action=down]");
    } else if (action === "down" && li.nextElementSibling) {
      list.insertBefore(li.nextElementSibling, li);
      focusTarget = li.querySelector("[data-row-action=down]:not([disabled])") || li.querySelector("[data-row-action=up]");
    }
    renumber();
    if (action !== "remove") { say(t("Partnership moved to position %s.", parseInt(li.dataset.index, 10) + 1)); }
    if (focusTarget) { focusTarget.focus(); }
    changed();
  }

  // --- saving -----------------------------------------------------------------------------------
  function changed() {
    dirty = true;
    updateChecklist();
    clearTimeout(timer);
    timer = setTimeout(function () { send("save"); }, DEBOUNCE_MS);
  }
  function headers() {
    return { "Content-Type": "application/json", "Accept": "application/json",
             "X-Launch-Token": tokenInput.value, "X-CSRF-Token": csrfInput.value };
  }
  function send(action, force) {
    clearTimeout(timer);
    if (inFlight) { pendingAction = pendingAction === "submit" ? "submit" : action; return; }
    inFlight = true;
    var body = collect();
    body.base_version = baseInput.value === "" ? null : parseInt(baseInput.value, 10);
    body.action = force ? "keep-mine" : action;
    say(action === "submit" ? t("Submitting…") : t("Saving…"));
    var sentDirty = dirty;
    dirty = false;
    fetch(url, { method: "POST", headers: headers(), body: JSON.stringify(body), credentials: "omit" })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (json) { return { status: response.status, json: json }; });
      })
      .then(function (r) { handle(r.status, r.json, action, sentDirty); })
      .catch(function () { dirty = dirty || sentDirty; retry(action); })
      .then(function () {
        inFlight = false;
        if (pendingAction) { var next = pendingAction; pendingAction = null; send(next); }
      });
  }
  function handle(code, json, action, sentDirty) {
    if (json.launch_token) { tokenInput.value = json.launch_token; }
    if (code === 200) {
      retryDelay = 0;
      baseInput.value = json.version;
      clearErrors();
      showStatus(json);
      say(action === "submit" ? t("Submitted. Thank you!") : t("Saved at %s.", clock(json.saved_at)));
    } else if (code === 409) {
      dirty = true;
      showConflict(json);
    } else if (code === 422) {
      if (json.incomplete) {
        // Not submitted, but saved as a draft: carry on from the new version.
        if (json.version) { baseInput.value = json.version; }
        showStatus(json);
        say(t("Not submitted: the worksheet is not complete yet. See the checklist.")); document.getElementById("checklist").focus();
      } else { dirty = dirty || sentDirty; showErrors(json.errors || {}); say(t("Not saved: please check the highlighted fields.")); }
    } else if (code === 401) {
      dirty = dirty || sentDirty;
      say(t("Your session has expired. Your latest changes are not saved: copy them, then open the activity again from your course."));
    } else {
      dirty = dirty || sentDirty;
      retry(action);
    }
  }
  function retry(action) {
    retryDelay = Math.min(retryDelay ? retryDelay * 2 : 2, 60);
    say(t("Not saved yet: the connection failed. Retrying in %s seconds…", retryDelay));
    clearTimeout(timer);
    timer = setTimeout(function () { send(action); }, retryDelay * 1000);
  }
  function showStatus(json) {
    var p = document.querySelector(".submission-status");
    if (!p) { return; }
    p.dataset.status = json.status;
    if (json.status === "submitted") {
      p.textContent = json.unsubmitted_changes ? t("Submitted earlier. You have changes that are not submitted yet.") : t("Submitted.");
    } else { p.textContent = t("Draft — not submitted yet."); }
  }

  // --- errors and conflicts ---------------------------------------------------------------------
  function clearErrors() {
    form.querySelectorAll(".field-error.live").forEach(function (p) { p.remove(); });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
  }
  function showErrors(errors) {
    clearErrors();
    var first = null;
    Object.keys(errors).forEach(function (name) {
      var el = document.getElementById(name) || form.querySelector("[name='" + name + "']");
      if (!el) { return; }
      var p = document.createElement("p");
      p.className = "field-error live";
      p.id = name + "-error";
      p.textContent = errors[name].join(" ");
      el.setAttribute("aria-invalid", "true");
      el.setAttribute("aria-describedby", p.id);
      el.parentNode.appendChild(p);
      first = first || el;
    });
    if (first) { first.focus(); }
  }
  function showConflict(json) {
    var box = document.getElementById("conflict-notice");
    if (!box) {
      box = document.createElement("div");
      box.id = "conflict-notice";
      box.className = "notice conflict";
      box.setAttribute("role", "alert");
      form.parentNode.insertBefore(box, form);
    }
    box.innerHTML = "";
    var h = document.createElement("h3"); h.textContent = t("This worksheet was changed in another tab or window"); box.appendChild(h);
    var p = document.createElement("p"); p.textContent = t("Both versions are kept, so nothing is lost. Which one do you want to keep working on?"); box.appendChild(p);
    var mine = document.createElement("button"); mine.type = "button"; mine.className = "btn"; mine.textContent = t("Keep my version");
    var theirs = document.createElement("button"); theirs.type = "button"; theirs.className = "btn"; theirs.textContent = t("Use the other version");
    // Keep the base this page was working from: the server keeps the other tab's version as a
    // 'replaced' revision only when the base it is told about is not the current version.
    mine.addEventListener("click", function () { box.remove(); send("save", true); });
    theirs.addEventListener("click", function () { baseInput.value = json.version; fill(json.stored); dirty = false; box.remove(); say(t("Showing the version saved in the other tab.")); });
    box.appendChild(mine); box.appendChild(document.createTextNode(" ")); box.appendChild(theirs);
    say(t("Not saved: this worksheet was changed in another tab."));
    mine.focus();
  }
  function fill(data) {
    var rows = data.rows.length ? data.rows : [{}];
    var items = list.querySelectorAll(".ws-row");
    for (var i = items.length - 1; i >= 1; i--) { items[i].remove(); }
    var template = list.querySelector(".ws-row");
    rows.forEach(function (row, i) {
      var li = i === 0 ? template : template.cloneNode(true);
      clearRow(li);
      if (i > 0) { list.appendChild(li); }
      li.querySelectorAll("[data-col]").forEach(function (el) {
        var v = row[el.dataset.col] || "";
        if (el.type === "radio") { el.checked = el.value === v; } else { el.value = v; }
      });
    });
    renumber();
    form.querySelectorAll("[data-question]").forEach(function (el) { el.value = data.answers[el.dataset.question] || ""; });
    updateChecklist();
  }

  // --- wiring -----------------------------------------------------------------------------------
  form.addEventListener("input", function (e) { if (e.target.matches("[data-col],[data-question]")) { changed(); } });
  form.addEventListener("change", function (e) { if (e.target.type === "radio") { changed(); } });
  form.addEventListener("click", function (e) {
    var button = e.target.closest("button[name=action]");
    if (!button) { return; }
    e.preventDefault();
    if (button.dataset.rowAction) { rowAction(button); }
    else if (button.value === "add") { addRow(); }
    else if (button.value === "submit") { send("submit"); }
    else if (button.value === "keep-mine") { send("save", true); }
    else { send("save"); }
  });
  window.addEventListener("beforeunload", function (e) {
    if (dirty || inFlight) { e.preventDefault(); e.returnValue = ""; }
  });
  renumber();
  updateChecklist();
}());
