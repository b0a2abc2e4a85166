/* Tribune's only script beyond htmx.
 * - The live character counter of compose boxes. It counts as the server does
 *   (core/text.py count_characters): grapheme clusters, every link as 23
 *   characters, the content warning included. The server still checks; this only
 *   shows the count as the person types.
 * - Keyboard focus across htmx swaps: after an in-place action the same button of
 *   the new button bar has focus; after "Load more" the first new post has it.
 * - A preview of each picture chosen in a compose box (a data: URL, which the
 *   Content-Security-Policy allows for images).
 * - Live updates from the streaming API (Server-Sent Events, signed in by the
 *   session cookie): a new post in the home feed fetches the new part of the feed
 *   at once (the poller's "streamed" trigger); a notification bumps the unread
 *   count in the header. Without the stream the poller still runs every 15 s. */
(function () {
  "use strict";
  var URL_RE = /https?:\/\/[^\s<>"']+/g;
  var segmenter = typeof Intl !== "undefined" && Intl.Segmenter ? new Intl.Segmenter() : null;
  var numbers = new Intl.NumberFormat(document.documentElement.lang || undefined);

  function graphemes(text) {
    if (!segmenter) return Array.from(text).length;
    var n = 0;
    for (var _ of segmenter.segment(text)) n++;
    return n;
  }

  function count(text) {
    var links = text.match(URL_RE) || [];
    return graphemes(text.replace(URL_RE, "")) + 23 * links.length;
  }

  function update(form) {
    var text = form.querySelector("textarea[data-counter]");
    if (!text) return;
    var output = document.getElementById(text.dataset.counter);
    if (!output) return;
    var spoiler = form.querySelector("[name=spoiler_text]");
    var used = count(text.value) + (spoiler ? count(spoiler.value) : 0);
    var left = parseInt(output.dataset.max, 10) - used;
    output.textContent = numbers.format(left);
    output.classList.toggle("over", left < 0);
    var submit = form.querySelector("button[type=submit]");
    if (submit) submit.disabled = left < 0;
  }

  function init(root) {
    root.querySelectorAll("textarea[data-counter]").forEach(function (text) {
      if (text.form) update(text.form);
    });
  }

  document.addEventListener("input", function (event) {
    if (event.target.form) update(event.target.form);
  });
  document.addEventListener("DOMContentLoaded", function () { init(document); });

  var pendingFocus = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var active = document.activeElement;
    if (!target || !active || !target.contains(active)) return;
    if (target.classList.contains("actions")) {
      var controls = Array.prototype.slice.call(target.querySelectorAll("button, a"));
      pendingFocus = { bar: target.id, index: controls.indexOf(active) };
    } else if (target.classList.contains("load-more")) {
      pendingFocus = { after: target.previousElementSibling };
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    var wanted = pendingFocus;
    pendingFocus = null;
    if (!wanted) return;
    var element = null;
    if (wanted.bar) {
      var bar = document.getElementById(wanted.bar);
      var controls = bar ? bar.querySelectorAll("button, a") : [];
      element = controls[Math.max(wanted.index, 0)] || bar;
    } else if (wanted.after) {
      element = wanted.after.nextElementSibling;
    }
    if (element) element.focus();
  });
  document.addEventListener("htmx:afterSwap", function (event) { init(event.target); });

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.dataset || !input.dataset.preview) return;
    var preview = document.getElementById(input.dataset.preview);
    if (!preview) return;
    var file = input.files && input.files[0];
    if (!file || !/^image\//.test(file.type)) {
      preview.hidden = true;
      preview.removeAttribute("src");
      return;
    }
    var reader = new FileReader();
    reader.onload = function () { preview.src = reader.result; preview.hidden = false; };
    reader.readAsDataURL(file);
  });

  function bumpUnread() {
    var link = document.querySelector("a[data-unread-label]");
    if (!link) return;
    var badge = link.querySelector(".unread");
    if (!badge) {
      badge = document.createElement("span");
      badge.className = "unread";
      badge.appendChild(document.createTextNode("0"));
      var label = document.createElement("span");
      label.className = "visually-hidden";
      label.textContent = " " + link.dataset.unreadLabel;
      badge.appendChild(label);
      link.appendChild(document.createTextNode(" "));
      link.appendChild(badge);
    }
    var count = badge.firstChild;
    var n = parseInt(count.nodeValue, 10);
    if (/\+$/.test(count.nodeValue) || isNaN(n)) return;
    count.nodeValue = n + 1 >= 40 ? "40+" : String(n + 1);
  }

  function listen() {
    var base = document.body.dataset.streaming;
    if (!base || typeof EventSource === "undefined") return;
    var source = new EventSource(base + "/" + document.body.dataset.stream,
                                 {withCredentials: true});
    source.addEventListener("update", function () {
      var poller = document.getElementById("poller");
      if (poller) poller.dispatchEvent(new Event("streamed"));
    });
    source.addEventListener("notification", bumpUnread);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", listen);
  } else {
    listen();
  }
})();
