/*
 * Keyboard-only entry, for the first month's usage figures: an entry form's hidden
 * entry_pointer field says "0" once this script runs and "1" from the first pointer press
 * (mouse, pen or touch) on the page, so a post tells whether the form was filled by keyboard
 * alone. A form drawn again after an error keeps the "1" the server was sent.
 */
(function () {
  "use strict";

  var SELECTOR = "input[data-usage-pointer]";

  function mark(value) {
    var fields = document.querySelectorAll(SELECTOR);
    for (var i = 0; i < fields.length; i += 1) {
      if (value === "1" || fields[i].value === "") {
        fields[i].value = value;
      }
    }
  }

  var pointerUsed = false;
  mark("0");
  document.addEventListener("pointerdown", function () {
    pointerUsed = true;
    mark("1");
  }, true);
  // htmx swaps in parts of the form: a field drawn anew takes what is known so far.
  document.addEventListener("htmx:afterSettle", function () {
    mark(pointerUsed ? "1" : "0");
  });
})();
