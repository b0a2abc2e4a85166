/* Tribune's only script beyond htmx.
 * - The live character counter of compose boxes. It counts as the server does
 *   (core/text.py count_characters): grapheme clusters, every link as 23
 *   characters, the content warning included. The server still checks; this only
 *   shows the count as the person types.
 * - Keyboard focus across htmx swaps: after an in-place action the same button of
 *   the new button bar has focus; after "Load more" the first new post has it.
 * - A preview of each picture chosen in a compose box (a data: URL, which the
 *   Content-Security-Policy allows for images). */
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
})();
