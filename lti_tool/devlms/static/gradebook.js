/* The practice LMS's gradebook page keeps itself up to date: every few seconds it reads
 * /dev/lms/api/gradebook, /api/stats and /api/faults and redraws the tables from that JSON.
 * Without scripts the page is the same server-rendered HTML, with a reload link (and a
 * <noscript> meta refresh). Text is only ever set with textContent: nothing is parsed as HTML.
 * The "last updated" line (#gb-status, aria-live="polite") changes only when the data did,
 * so a screen reader hears about new grades, not about every poll. */
(function () {
  "use strict";

  var root = document.getElementById("gradebook");
  if (!root || !window.fetch || !window.Promise) {
    return;
  }
  var urls = { book: root.dataset.gradebookUrl, stats: root.dataset.statsUrl, faults: root.dataset.faultsUrl };
  var pollMs = parseInt(root.dataset.pollMs, 10) || 2000;
  var recentLimit = parseInt(root.dataset.recentLimit, 10) || 20;
  var status = document.getElementById("gb-status");
  var items = document.getElementById("gb-items");
  var recent = document.getElementById("gb-recent");
  var counters = document.getElementById("gb-counters");
  var faultsNotice = document.getElementById("gb-faults");
  var lastSeen = null;
  var failing = false;
  var busy = false;

  /* el("td", {className: "muted"}, ["text", node, ...]) */
  function el(tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) {
      if (key === "scope" || key === "colSpan" || key === "id" || key === "className") {
        node[key] = props[key];
      } else {
        node.setAttribute(key, props[key]);
      }
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) {
        return;
      }
      node.appendChild(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
    });
    return node;
  }

  function text(value) {
    return value === null || value === undefined ? "" : String(value);
  }

  function scoreCell(item, g) {
    if (g.resultScore !== null && g.resultScore !== undefined) {
      return el("td", {}, [g.resultScore + " / " + item.scoreMaximum]);
    }
    return el("td", {}, [el("span", { className: "muted" }, [g.gradingProgress ? "no grade" : "\u2013"])]);
  }

  function gradeRow(item, g) {
    return el("tr", {}, [
      el("th", { scope: "row" }, [
        el("bdi", {}, [g.name || "(no name)"]), " ",
        el("span", { className: "muted" }, [el("code", {}, [text(g.userId)])])
      ]),
      scoreCell(item, g),
      el("td", {}, [text(g.activityProgress)]),
      el("td", {}, [text(g.gradingProgress)]),
      el("td", {}, [text(g.timestamp)]),
      el("td", {}, [el("bdi", {}, [text(g.comment)])])
    ]);
  }

  function itemSection(item) {
    var headingId = "gb-item-" + item.id;
    var detail = "(line item " + item.id + ", out of " + item.scoreMaximum;
    var note = el("span", { className: "muted" }, [detail]);
    if (item.resourceLinkId) {
      note.appendChild(document.createTextNode(", resource link "));
      note.appendChild(el("code", {}, [item.resourceLinkId]));
    }
    note.appendChild(document.createTextNode(")"));
    var head = el("tr", {}, ["Person", "Score", "Activity", "Grading", "Timestamp", "Comment"].map(function (label) {
      return el("th", { scope: "col" }, [label]);
    }));
    var body = el("tbody", {}, item.grades.map(function (g) { return gradeRow(item, g); }));
    return el("section", { className: "gb-item", "aria-labelledby": headingId }, [
      el("h2", { id: headingId }, [item.label + " ", note]),
      el("table", {}, [
        el("caption", { className: "visually-hidden" }, ["Grades for " + item.label + ", one row per person"]),
        el("thead", {}, [head]),
        body
      ])
    ]);
  }

  function renderItems(lineitems) {
    var nodes = lineitems.length ? lineitems.map(itemSection) : [el("p", { className: "muted" }, ["No line items."])];
    items.replaceChildren.apply(items, nodes);
  }

  function renderRecent(scores) {
    var shown = scores.slice(0, recentLimit);
    var rows = shown.map(function (s) {
      return el("tr", {}, [
        el("td", {}, [text(s.id)]), el("td", {}, [text(s.lineitem_id)]),
        el("td", {}, [el("code", {}, [text(s.user_id)])]), el("td", {}, [text(s.client_id)]),
        el("td", {}, [text(s.status)]), el("td", {}, [text(s.detail)])
      ]);
    });
    if (!rows.length) {
      rows = [el("tr", {}, [el("td", { colSpan: 6, className: "muted" }, ["None yet."])])];
    }
    recent.replaceChildren.apply(recent, rows);
  }

  function renderCounters(values) {
    var rows = Object.keys(values).map(function (name) {
      return el("tr", {}, [el("th", { scope: "row" }, [name]), el("td", {}, [text(values[name])])]);
    });
    counters.replaceChildren.apply(counters, rows);
  }

  function renderFaults(f) {
    var parts = [];
    if (f.down_until) { parts.push("down until " + new Date(f.down_until * 1000).toLocaleTimeString()); }
    if (f.fail_next) { parts.push("next " + f.fail_next.count + " " + f.fail_next.target + " call(s) answer " + f.fail_next.status); }
    if (f.fail_rate) {
      parts.push(Math.round(f.fail_rate * 1000) / 10 + "% of " + f.fail_target + " calls answer " + f.fail_statuses.join("/") +
                 (f.fail_seed !== null && f.fail_seed !== undefined ? " (seed " + f.fail_seed + ")" : ""));
    }
    if (f.conflict_next_score) { parts.push("next " + f.conflict_next_score + " score(s) answer 409"); }
    if (f.unauthorized_once) { parts.push("next " + f.unauthorized_once + " service call(s) answer 401"); }
    if (f.bad_request_user) { parts.push("scores for " + f.bad_request_user + " answer 400"); }
    var message = parts.length ? "Injected faults in force: " + parts.join("; ") + "." : "";
    if (faultsNotice.hidden !== (parts.length === 0) || (parts.length && faultsNotice.textContent !== message)) {
      faultsNotice.hidden = parts.length === 0;  /* changed only when the faults did (it is a status region) */
      faultsNotice.textContent = message;
    }
  }

  function getJson(url) {
    return fetch(url, { headers: { Accept: "application/json" }, cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      });
  }

  function setStatus(message, when) {
    var time = el("time", { datetime: when.toISOString() }, [when.toLocaleTimeString()]);
    status.replaceChildren(message + " ", time, ".");
  }

  function tick() {
    if (busy || document.hidden) {
      return;
    }
    busy = true;
    Promise.all([getJson(urls.book), getJson(urls.stats), getJson(urls.faults)]).then(function (answers) {
      var book = answers[0], stats = answers[1], faults = answers[2];
      var seen = JSON.stringify([book.lineitems, book.recent_scores, stats]);
      renderFaults(faults);
      if (seen !== lastSeen) {
        renderItems(book.lineitems);
        renderRecent(book.recent_scores);
        renderCounters(stats);
        if (lastSeen !== null || failing) {
          setStatus("Last updated", new Date());
        }
        lastSeen = seen;
      } else if (failing) {
        setStatus("Connection back. Last updated", new Date());
      }
      failing = false;
    }).catch(function () {
      if (!failing) {
        status.textContent = "Could not reach the gradebook; trying again every " + pollMs / 1000 +
          " seconds. The grades shown may be out of date.";
      }
      failing = true;
    }).then(function () {
      busy = false;
    });
  }

  if (!Element.prototype.replaceChildren) {
    return;  /* a very old browser: the page stays as served, with its reload link */
  }
  root.setAttribute("data-live", "on");
  tick();
  window.setInterval(tick, pollMs);
  document.addEventListener("visibilitychange", tick);
})();
