/*
 * The "Send feedback" dialog: the header link opens it (Enter or click), Escape or Cancel closes
 * it and gives the focus back to the link. It fills in what the server keeps beside the message:
 * the entry channel and voucher type the page shows (data-entry-channel, data-voucher-type) and
 * the page's load time from Navigation Timing. Without this script the link opens the same form
 * on a page of its own. No inline script: it runs under a strict Content-Security-Policy.
 */
(function () {
  "use strict";

  var opener = document.querySelector("[data-feedback-open]");
  var dialog = document.getElementById("feedback-dialog");
  if (!opener || !dialog || typeof dialog.showModal !== "function") {
    return;
  }

  function field(selector) {
    return dialog.querySelector(selector);
  }

  function loadMs() {
    var entries = performance.getEntriesByType ? performance.getEntriesByType("navigation") : [];
    var navigation = entries[0];
    if (!navigation || !(navigation.loadEventEnd > 0)) {
      return "";
    }
    return String(Math.round(navigation.loadEventEnd - navigation.startTime));
  }

  function fill() {
    var entry = document.querySelector("[data-entry-channel][data-voucher-type]");
    field("[data-feedback-channel]").value = entry ? entry.getAttribute("data-entry-channel") : "";
    field("[data-feedback-type]").value = entry ? entry.getAttribute("data-voucher-type") : "";
    field("[data-feedback-path]").value = window.location.pathname;
    field("[data-feedback-load]").value = loadMs();
  }

  opener.addEventListener("click", function (event) {
    event.preventDefault();
    fill();
    dialog.showModal();
    field("textarea").focus();
  });

  field("[data-feedback-close]").addEventListener("click", function () {
    dialog.close();
  });

  dialog.addEventListener("close", function () {
    opener.focus();
  });
})();
