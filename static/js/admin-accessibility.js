/* Names for the parts of the Django admin that its own scripts draw (issue 16, WCAG 1.3.1 and 4.1.2).
   Loaded on every admin page by templates/admin/base_site.html.

   - select2 (autocomplete_fields): the combo box, its search field and its list of results take the
     name of the original <select>'s <label>; its "remove all" cross, which sits inside the list of
     choices and is for the mouse only (Backspace does the same), is hidden from screen readers.
   - the two-box selector (filter_horizontal): the help icons beside "Filter" are images, so that their
     aria-label is allowed.
   - a date-and-time field: the date and the time box are named from the field's label.
   - a tabular inline that scrolls sideways with nothing in it to focus (a read-only log) becomes a
     focusable region named by its heading, so a keyboard can scroll it (WCAG 2.1.1).

   select2 draws its parts after the page loads and again on every change, so a MutationObserver names
   each part as it appears. */
(function () {
  "use strict";

  // The <label> of a form control, given an id so that aria-labelledby can point at it.
  function labelOf(control) {
    if (!control || !control.id) {
      return null;
    }
    const label = document.querySelector('label[for="' + CSS.escape(control.id) + '"]');
    if (label && !label.id) {
      label.id = control.id + "-label";
    }
    return label;
  }

  // Name an element as the control is named: by its <label>, or by the control's own aria-label (a
  // field in a table row has one, from the server). `also` is an id added after the label's.
  function nameLike(element, control, also) {
    const label = labelOf(control);
    if (label) {
      const ids = also ? label.id + " " + also : label.id;
      if (element.getAttribute("aria-labelledby") !== ids) {
        element.setAttribute("aria-labelledby", ids);
      }
    } else if (control && control.getAttribute("aria-label") && !element.hasAttribute("aria-label")) {
      element.setAttribute("aria-label", control.getAttribute("aria-label"));
    }
  }

  function nameSelect2(select) {
    const container = select.nextElementSibling;
    if (!container || !container.classList.contains("select2-container")) {
      return;
    }
    const combobox = container.querySelector(".select2-selection[role='combobox']");
    const rendered = container.querySelector(".select2-selection__rendered[id]");
    if (combobox) {
      // A single choice: the name is the label followed by the choice shown.
      nameLike(combobox, select, rendered ? rendered.id : "");
      // An open combo box says which list it controls (select2 says so with ARIA 1.1's aria-owns).
      const results = document.getElementById("select2-" + select.id + "-results");
      if (combobox.getAttribute("aria-expanded") === "true" && results) {
        combobox.setAttribute("aria-controls", results.id);
      } else {
        combobox.removeAttribute("aria-controls");
      }
    }
    if (rendered && rendered.getAttribute("role") === "textbox") {
      nameLike(rendered, select);
    }
    container.querySelectorAll(".select2-search__field").forEach(function (field) {
      nameLike(field, select);
    });
    container.querySelectorAll(".select2-selection__rendered > .select2-selection__clear").forEach(function (cross) {
      cross.setAttribute("aria-hidden", "true");
    });
  }

  // An open drop-down is drawn at the end of the page; its list's id names the <select> it belongs to.
  function nameSelect2Dropdown(dropdown) {
    const results = dropdown.querySelector(".select2-results__options[id]");
    const match = results && results.id.match(/^select2-(.+)-results$/);
    const select = match && document.getElementById(match[1]);
    if (!select) {
      return;
    }
    nameLike(results, select);
    dropdown.querySelectorAll(".select2-search__field").forEach(function (field) {
      nameLike(field, select);
    });
  }

  // Django draws "Date: [box] Time: [box]" with a <label> (no "for") before them both.
  function nameDateTime(paragraph) {
    const label = paragraph.parentElement && paragraph.parentElement.querySelector(":scope > label");
    const field = label ? label.textContent.trim().replace(/:$/, "") : "";
    paragraph.querySelectorAll("input").forEach(function (input) {
      if (input.hasAttribute("aria-label") || input.hasAttribute("aria-labelledby") || labelOf(input)) {
        return;
      }
      let before = input.previousSibling;
      while (before && before.nodeType !== Node.TEXT_NODE) {
        before = before.previousSibling;
      }
      const part = before ? before.textContent.trim().replace(/:$/, "") : "";
      const name = [field, part].filter(Boolean).join(": ");
      if (name) {
        input.setAttribute("aria-label", name);
      }
    });
  }

  function focusableScrolling(group) {
    if (group.scrollWidth <= group.clientWidth || group.hasAttribute("tabindex")) {
      return;
    }
    if (group.querySelector("a[href], button, input:not([type='hidden']), select, textarea, [tabindex]")) {
      return;
    }
    const heading = group.querySelector("h2");
    if (heading && !heading.id) {
      heading.id = (group.id || "inline") + "-heading";
    }
    group.setAttribute("tabindex", "0");
    group.setAttribute("role", "region");
    if (heading) {
      group.setAttribute("aria-labelledby", heading.id);
    }
  }

  function nameAll() {
    document.querySelectorAll("select.select2-hidden-accessible").forEach(nameSelect2);
    document.querySelectorAll(".select2-container--open .select2-dropdown").forEach(nameSelect2Dropdown);
    document.querySelectorAll("span.help-tooltip[aria-label]:not([role])").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
    document.querySelectorAll("p.datetime").forEach(nameDateTime);
    document.querySelectorAll('.inline-group[data-inline-type="tabular"]').forEach(focusableScrolling);
  }

  let pending = false;
  new MutationObserver(function () {
    // One pass per batch of changes; a microtask runs before the page is painted or tested.
    if (!pending) {
      pending = true;
      queueMicrotask(function () {
        pending = false;
        nameAll();
      });
    }
  }).observe(document.documentElement, { childList: true, subtree: true });
  nameAll();
})();
