/* The reviewer page's behaviour.  The pages work without it; this adds the page viewer
   beside the checklist, the queue's live refresh, the timeline's evidence on click, and
   copying and printing the request to the provider.  No library, nothing from elsewhere. */
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";

  function byRole(root, role) { return root.querySelector('[data-role="' + role + '"]'); }

  /* ---------------------------------------------------------------- the queue */

  function liveQueue() {
    var table = document.getElementById("queue");
    var body = document.getElementById("queue-rows");
    var live = document.getElementById("queue-live");
    if (!table || !body) return;
    function ids(root) {
      return Array.prototype.map.call(root.querySelectorAll("tr[data-id]"), function (tr) { return tr.dataset.id; });
    }
    var known = ids(body);
    var stopped = false;
    function refresh() {
      if (stopped || document.hidden) return;
      fetch(table.dataset.rows, { credentials: "same-origin", headers: { Accept: "*/*" }, cache: "no-store" })
        .then(function (resp) {
          if (resp.status === 401) {
            stopped = true;
            live.textContent = "You are signed out; sign in again to see new cases.";
            return null;
          }
          return resp.ok ? resp.text() : null;
        })
        .then(function (html) {
          if (html === null || html === undefined) return;
          var holder = document.createElement("tbody");
          holder.innerHTML = html;
          var fresh = ids(holder);
          var added = fresh.filter(function (id) { return known.indexOf(id) < 0; });
          // Keep the keyboard where it was: the same link in the same row, after the swap.
          var active = document.activeElement;
          var row = active && body.contains(active) ? active.closest("tr[data-id]") : null;
          var rowId = row ? row.dataset.id : null;
          body.innerHTML = holder.innerHTML;
          added.forEach(function (id) {
            var tr = body.querySelector('tr[data-id="' + id + '"]');
            if (tr) tr.classList.add("new");
          });
          if (rowId) {
            var again = body.querySelector('tr[data-id="' + rowId + '"] a');
            if (again) again.focus();
          }
          if (added.length) {
            live.textContent = added.length + (added.length === 1 ? " new case" : " new cases") + " in the queue.";
          }
          known = fresh;
        })
        .catch(function () { /* the service is restarting: try again next time */ });
    }
    window.setInterval(refresh, 4000);
    document.addEventListener("visibilitychange", refresh);
  }

  /* ---------------------------------------------------------------- the page viewer */

  function pageViewer() {
    var viewer = document.getElementById("viewer");
    if (!viewer) return;
    var layout = viewer.closest(".case-layout");
    var title = document.getElementById("viewer-title");
    var number = byRole(viewer, "number");
    var note = byRole(viewer, "note");
    var scroller = byRole(viewer, "scroll");
    var frame = byRole(viewer, "frame");
    var img = byRole(viewer, "image");
    var overlay = byRole(viewer, "overlay");
    var pages = parseInt(viewer.dataset.pages, 10) || 1;
    var aside = (viewer.dataset.aside || "").split(",").filter(Boolean).map(Number);
    var state = { page: 1, box: null, zoom: 1, trigger: null, low: null, quote: "" };

    function parseBox(text) {
      if (!text) return null;
      var v = text.split(",").map(Number);
      return v.length === 4 && v.every(isFinite) ? { x0: v[0], y0: v[1], x1: v[2], y1: v[3] } : null;
    }

    function drawBox() {
      while (overlay.firstChild) overlay.removeChild(overlay.firstChild);
      if (!state.box) return;
      var b = state.box;
      var rect = document.createElementNS(SVG, "rect");
      rect.setAttribute("x", b.x0);
      rect.setAttribute("y", b.y0);
      rect.setAttribute("width", Math.max(0.002, b.x1 - b.x0));
      rect.setAttribute("height", Math.max(0.002, b.y1 - b.y0));
      rect.setAttribute("vector-effect", "non-scaling-stroke");
      rect.setAttribute("class", state.low ? "hl low" : "hl");
      rect.setAttribute("data-testid", "highlight");
      overlay.appendChild(rect);
    }

    function readableZoom() {
      // Zoom so the quoted words stand about 22 px tall, within 1x to 4x of the fitted page.
      if (!state.box || !img.naturalWidth) return 1;
      var fitted = scroller.clientWidth * img.naturalHeight / img.naturalWidth;
      var tall = (state.box.y1 - state.box.y0) * fitted;
      return tall > 0 ? Math.max(1, Math.min(4, 22 / tall)) : 1;
    }

    function applyZoom() {
      frame.style.width = (state.zoom * 100) + "%";
    }

    function scrollToBox() {
      if (!state.box) { scroller.scrollTop = 0; scroller.scrollLeft = 0; return; }
      var w = frame.clientWidth, h = frame.clientHeight;
      var cx = (state.box.x0 + state.box.x1) / 2 * w, cy = (state.box.y0 + state.box.y1) / 2 * h;
      scroller.scrollLeft = Math.max(0, cx - scroller.clientWidth / 2);
      scroller.scrollTop = Math.max(0, cy - scroller.clientHeight / 2);
    }

    function describe() {
      note.textContent = "";
      if (state.quote) {
        var q = document.createElement("span");
        q.textContent = "\u201c" + state.quote + "\u201d ";
        note.appendChild(q);
      }
      var warn = [];
      if (state.low) warn.push("\u26a0 read with low OCR confidence (" + state.low + "%): check the words on the page.");
      if (aside.indexOf(state.page) >= 0) warn.push("Set aside: another patient's page; no facts were read from it.");
      if (state.quote && !state.box) warn.push("No box was recorded for this quote.");
      if (warn.length) {
        var w = document.createElement("span");
        w.className = "warn";
        w.textContent = warn.join(" ");
        note.appendChild(w);
      }
    }

    function show(fresh) {
      number.textContent = state.page;
      img.alt = "Page " + state.page + " as received";
      describe();
      drawBox();
      var src = viewer.dataset.image.replace("{n}", state.page);
      var done = function () {
        if (fresh) state.zoom = readableZoom();
        applyZoom();
        scrollToBox();
        viewer.dataset.ready = String(state.page);
      };
      viewer.dataset.ready = "";
      if (img.getAttribute("src") === src && img.complete && img.naturalWidth) {
        done();
      } else {
        img.onload = done;
        img.onerror = function () {
          note.textContent = "The page could not be loaded" + (img.naturalWidth ? "." : " (signed out?).");
        };
        img.setAttribute("src", src);
      }
    }

    function open(page, box, quote, low, trigger) {
      state.page = Math.min(Math.max(1, page), pages);
      state.box = parseBox(box);
      state.quote = quote || "";
      state.low = low || null;
      if (state.trigger) state.trigger.classList.remove("active");
      state.trigger = trigger || null;
      if (state.trigger) state.trigger.classList.add("active");
      viewer.hidden = false;
      if (layout) layout.classList.add("viewing");
      document.body.classList.add("viewer-open");
      show(true);
      title.focus({ preventScroll: true });
    }

    function close() {
      viewer.hidden = true;
      if (layout) layout.classList.remove("viewing");
      document.body.classList.remove("viewer-open");
      if (state.trigger) {
        state.trigger.classList.remove("active");
        state.trigger.focus();
      }
    }

    function turn(by) {
      var next = state.page + by;
      if (next < 1 || next > pages) return;
      state.page = next;
      state.box = null;
      state.quote = "";
      state.low = null;
      show(false);
    }

    document.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("a.quote, a.page-link") : null;
      if (!link || event.metaKey || event.ctrlKey || event.shiftKey) return;
      event.preventDefault();
      open(parseInt(link.dataset.page, 10), link.dataset.box, link.dataset.quote, link.dataset.low, link);
    });
    viewer.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-act]");
      if (!button) return;
      var act = button.dataset.act;
      if (act === "close") close();
      else if (act === "prev") turn(-1);
      else if (act === "next") turn(1);
      else if (act === "zoom-in" || act === "zoom-out") {
        state.zoom = Math.max(1, Math.min(6, state.zoom * (act === "zoom-in" ? 1.25 : 0.8)));
        applyZoom();
        scrollToBox();
      }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && !viewer.hidden) close();
    });
    window.addEventListener("resize", function () { if (!viewer.hidden) scrollToBox(); });
  }

  /* ---------------------------------------------------------------- the timeline */

  function timeline() {
    document.addEventListener("click", function (event) {
      var bar = event.target.closest ? event.target.closest("a.bar") : null;
      if (!bar) return;
      event.preventDefault();
      var detail = document.getElementById("line-" + bar.dataset.line);
      if (!detail) return;
      detail.open = true;
      detail.classList.add("flash");
      window.setTimeout(function () { detail.classList.remove("flash"); }, 1500);
      detail.scrollIntoView({ block: "nearest" });
      var summary = detail.querySelector("summary");
      if (summary) summary.focus({ preventScroll: true });
    });
  }

  /* ---------------------------------------------------------------- the request to the provider */

  function copying() {
    document.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("button[data-copy]") : null;
      if (button) {
        var area = document.getElementById(button.dataset.copy);
        var status = document.getElementById("copy-status");
        var said = function (text) { if (status) status.textContent = text; };
        var fallback = function () {
          area.focus();
          area.select();
          said(document.execCommand && document.execCommand("copy") ? "Copied." : "Selected: press Ctrl+C to copy.");
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(area.value).then(function () { said("Copied."); }, fallback);
        } else {
          fallback();
        }
      }
      var print = event.target.closest ? event.target.closest("button[data-print]") : null;
      if (print) window.print();
      var request = event.target.closest ? event.target.closest("button[data-print-request]") : null;
      if (request) {
        // Print the request as the reviewer edited it, and nothing else of the case.
        var copy = document.getElementById("request-print");
        copy.textContent = document.getElementById(request.dataset.printRequest).value;
        document.body.classList.add("print-request");
        window.print();
      }
    });
  }

  window.addEventListener("afterprint", function () { document.body.classList.remove("print-request"); });

  function start() {
    liveQueue();
    pageViewer();
    timeline();
    copying();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
