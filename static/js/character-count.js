/* Character counts for long text boxes, the GOV.UK way.
 *
 * A field with data-maxlength has a message under it (class character-count, data-count-for naming the
 * field, aria-live="polite"), which the server writes as "You can enter up to 2,000 characters." for
 * browsers without JavaScript. Here it becomes "You have 312 characters remaining" and, past the limit,
 * "You have 12 characters too many" (in red). Nothing is cut off: the server refuses too long a text.
 * Characters are counted as the server counts them: one per character, a new line as one.
 */
(function () {
  "use strict";

  function length(text) {
    return Array.from(text).length;
  }

  function plural(count, one, many) {
    return (count === 1 ? one : many).replace("%s", count.toLocaleString("en-GB"));
  }

  function message(limit, used) {
    if (used > limit) {
      return plural(used - limit, "You have %s character too many", "You have %s characters too many");
    }
    return plural(limit - used, "You have %s character remaining", "You have %s characters remaining");
  }

  function attach(field) {
    var limit = parseInt(field.getAttribute("data-maxlength"), 10);
    if (!(limit > 0)) {
      return;
    }
    var count = field.id && document.querySelector('.character-count[data-count-for="' + field.id + '"]');
    if (!count) {
      // A box drawn by hand in a template, without the server's message: add one under it.
      count = document.createElement("span");
      count.className = "character-count form-text";
      count.setAttribute("aria-live", "polite");
      field.insertAdjacentElement("afterend", count);
    }
    var timer = null;
    function update() {
      var used = length(field.value);
      var over = used > limit;
      count.textContent = message(limit, used);
      count.classList.toggle("is-over", over);
      field.classList.toggle("is-over", over);
    }
    update();
    field.addEventListener("input", function () {
      // A short pause before the (announced) message changes, so a screen reader is not read every key.
      window.clearTimeout(timer);
      timer = window.setTimeout(update, 250);
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-maxlength]"), attach);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
