// The voucher entry screen's keyboard and htmx behaviour. Plain script: no inline code, no eval.
//
// Every listener is delegated from `document`, so it keeps working when htmx swaps the form.
// Without this file (or without JavaScript) the page still works through plain form posts.
(function () {
  "use strict";

  var RELOAD_MESSAGE =
    "Your session or security token has expired, so that was not done. " +
    "Reload the page to continue; copy anything you typed first.";
  var OFFLINE_MESSAGE =
    "The server could not be reached. Your entries are still on this page; try again.";

  // Belt and braces with the htmx-config meta tag: a strict Content-Security-Policy needs htmx
  // to evaluate nothing, run no scripts it swaps in, and talk only to this site.
  if (window.htmx) {
    window.htmx.config.selfRequestsOnly = true;
    window.htmx.config.allowEval = false;
    window.htmx.config.allowScriptTags = false;
    window.htmx.config.includeIndicatorStyles = false;
  }

  function entryRoot() {
    return document.getElementById("entry");
  }

  // A passing problem (the network) clears on the next good answer; a lost session stays.
  function showAlert(message, lasting) {
    var alert = document.getElementById("entry-alert");
    if (!alert) {
      window.alert(message);
      return;
    }
    alert.textContent = message;
    alert.hidden = false;
    alert.setAttribute("data-from-script", lasting ? "lasting" : "passing");
  }

  function clearScriptAlert() {
    var alert = document.getElementById("entry-alert");
    if (alert && alert.getAttribute("data-from-script") === "passing") {
      alert.hidden = true;
      alert.textContent = "";
      alert.removeAttribute("data-from-script");
    }
  }

  function clickButton(selector) {
    var root = entryRoot();
    var button = root && root.querySelector(selector);
    if (button && !button.disabled) {
      button.click();
      return true;
    }
    return false;
  }

  // --- responses ---------------------------------------------------------------------------

  function redirectedToLogin(xhr) {
    var root = entryRoot();
    if (!root || !xhr.responseURL) {
      return false;
    }
    var login = root.getAttribute("data-login-url");
    try {
      return login && new URL(xhr.responseURL).pathname === login;
    } catch (error) {
      return false;
    }
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (redirectedToLogin(xhr)) {
      // The session ended: the login page must never be swapped into the form.
      event.detail.shouldSwap = false;
      event.detail.isError = false;
      showAlert(RELOAD_MESSAGE, true);
      return;
    }
    var refused = xhr.status === 403 && xhr.getResponseHeader("X-Entry-Refused");
    // 422: the form with its errors; 409: the form of a changed configuration; a refusal.
    if (xhr.status === 422 || xhr.status === 409 || refused) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    if (status === 403) {
      showAlert(RELOAD_MESSAGE, true);
    } else {
      showAlert(
        "The server could not do that (error " + status + "). " +
          "Nothing on this page was lost; try again, and save before reloading."
      );
    }
  });

  document.addEventListener("htmx:sendError", function () {
    showAlert(OFFLINE_MESSAGE);
  });

  document.addEventListener("htmx:timeout", function () {
    showAlert(OFFLINE_MESSAGE);
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful) {
      clearScriptAlert();
    }
  });

  // Per-field validation: tell the server which input changed.
  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-validate")) {
      return;
    }
    var source = event.detail.triggeringEvent && event.detail.triggeringEvent.target;
    if (!source || !source.name) {
      event.preventDefault();
      return;
    }
    event.detail.formData.set("changed", source.name);
  });

  // After a line is removed the lines below it move up: number them again.
  function renumberLines() {
    var rows = document.querySelectorAll("#line-rows > tr.line");
    var number = 0;
    rows.forEach(function (row) {
      number += 1;
      var cell = row.querySelector(".line-number");
      if (cell && cell.textContent !== String(number)) {
        cell.textContent = String(number);
        row.querySelectorAll("[aria-label]").forEach(function (input) {
          input.setAttribute(
            "aria-label",
            input.getAttribute("aria-label").replace(/line \d+$/, "line " + number)
          );
        });
      }
    });
  }

  // After Remove line the focus would fall back to the page: keep it in the grid.
  function focusNear(removed) {
    var row = removed.nextElementSibling;
    while (row && row.hidden) {
      row = row.nextElementSibling;
    }
    if (!row) {
      row = removed.previousElementSibling;
      while (row && row.hidden) {
        row = row.previousElementSibling;
      }
    }
    var target = row ? row.querySelector("input, select, textarea") : null;
    if (!target) {
      var root = entryRoot();
      target = root && root.querySelector(".add-line");
    }
    if (target) {
      target.focus();
    }
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    // The target of a removed line has left the page by now: go by its id.
    var target = event.detail.target;
    if (!target || !(target.id === "line-rows" || /^line-\d+$/.test(target.id))) {
      return;
    }
    renumberLines();
    var now = document.getElementById(target.id);
    var lost = !document.activeElement || document.activeElement === document.body;
    if (now && now.hidden && lost) {
      focusNear(now);
    }
  });

  // --- account and party search as you type --------------------------------------------------

  var lookupInput = null;
  var lookupTimer = null;

  function lookupList() {
    return document.getElementById("lookup-results");
  }

  function lookupOptions() {
    var list = lookupList();
    return list ? Array.prototype.slice.call(list.querySelectorAll("[data-code]")) : [];
  }

  function closeLookup() {
    var list = lookupList();
    if (list) {
      list.hidden = true;
      list.innerHTML = "";
      // No style attribute may stay behind: htmx copies the page for its history, and a copied
      // inline style is refused by the Content-Security-Policy.
      list.removeAttribute("style");
    }
    if (lookupInput) {
      lookupInput.setAttribute("aria-expanded", "false");
      lookupInput.removeAttribute("aria-activedescendant");
    }
    lookupInput = null;
  }

  function placeLookup(input) {
    var list = lookupList();
    var box = input.getBoundingClientRect();
    list.style.top = box.bottom + window.scrollY + "px";
    list.style.left = box.left + window.scrollX + "px";
    list.style.minWidth = Math.max(box.width, 240) + "px";
  }

  function searchLookup(input) {
    var root = entryRoot();
    var list = lookupList();
    if (!root || !list || !window.htmx) {
      return;
    }
    var kind = input.getAttribute("data-lookup");
    var url = root.getAttribute(kind === "party" ? "data-party-search-url" : "data-account-search-url");
    lookupInput = input;
    window.htmx
      .ajax("GET", url, {
        source: input,
        target: list,
        swap: "innerHTML",
        values: {
          field: input.getAttribute("data-field"),
          section: input.closest("#line-rows") ? "line" : "header",
          q: input.value,
          version: root.getAttribute("data-config-version"),
        },
      })
      .then(function () {
        if (lookupInput !== input || document.activeElement !== input) {
          return;
        }
        placeLookup(input);
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
        var options = lookupOptions();
        if (options.length) {
          highlight(options[0]);
        }
      });
  }

  function highlight(option) {
    lookupOptions().forEach(function (other) {
      other.setAttribute("aria-selected", other === option ? "true" : "false");
    });
    if (lookupInput && option) {
      lookupInput.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    }
  }

  function highlighted() {
    var list = lookupList();
    return list && list.querySelector('[aria-selected="true"][data-code]');
  }

  function pick(option) {
    var input = lookupInput;
    if (!input || !option) {
      return;
    }
    input.value = option.getAttribute("data-code");
    var name = document.getElementById(input.id + "-name");
    if (name) {
      name.textContent = option.getAttribute("data-name");
    }
    closeLookup();
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("#entry input.lookup") || input.readOnly) {
      return;
    }
    var name = document.getElementById(input.id + "-name");
    if (name) {
      name.textContent = "";
    }
    window.clearTimeout(lookupTimer);
    lookupTimer = window.setTimeout(function () {
      searchLookup(input);
    }, 180);
  });

  document.addEventListener("mousedown", function (event) {
    var option = event.target.closest && event.target.closest("#lookup-results [data-code]");
    if (option) {
      event.preventDefault(); // keep the focus in the input
      pick(option);
    }
  });

  document.addEventListener("focusout", function (event) {
    if (event.target === lookupInput) {
      window.setTimeout(function () {
        if (document.activeElement !== lookupInput) {
          closeLookup();
        }
      }, 0);
    }
  });

  function lookupKeys(event) {
    var list = lookupList();
    if (!lookupInput || event.target !== lookupInput || !list || list.hidden) {
      return false;
    }
    var options = lookupOptions();
    var current = options.indexOf(highlighted());
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (options.length) {
        var step = event.key === "ArrowDown" ? 1 : -1;
        highlight(options[(current + step + options.length) % options.length]);
      }
      return true;
    }
    if (event.key === "Enter" && current >= 0) {
      event.preventDefault();
      pick(options[current]);
      return true;
    }
    if (event.key === "Tab" && current >= 0 && lookupInput.value) {
      pick(options[current]); // and let Tab move on
      return false;
    }
    if (event.key === "Escape") {
      event.preventDefault();
      closeLookup();
      return true;
    }
    return false;
  }

  // --- the keyboard ----------------------------------------------------------------------------

  function visibleRows() {
    return Array.prototype.slice.call(document.querySelectorAll("#line-rows > tr.line"));
  }

  function moveDown(input) {
    var row = input.closest("tr");
    var rows = visibleRows();
    var index = rows.indexOf(row);
    if (index < 0) {
      return;
    }
    if (index === rows.length - 1) {
      clickButton(".add-line"); // the new line takes the focus (autofocus)
      return;
    }
    var column = Array.prototype.indexOf.call(row.cells, input.closest("td"));
    var below = rows[index + 1].cells[column];
    var target = below && below.querySelector("input, select, textarea");
    if (target) {
      target.focus();
    }
  }

  document.addEventListener("keydown", function (event) {
    var root = entryRoot();
    if (!root || event.defaultPrevented) {
      return;
    }
    if (lookupKeys(event)) {
      return;
    }
    var key = event.key;
    var command = event.ctrlKey || event.metaKey;
    if (command && (key === "s" || key === "S")) {
      event.preventDefault();
      clickButton('[data-shortcut="save"]');
      return;
    }
    if (command && key === "Enter") {
      event.preventDefault();
      if (!clickButton('[data-shortcut="post"]')) {
        clickButton('[data-shortcut="workflow"]');
      }
      return;
    }
    if (event.altKey && !command && (event.code === "KeyN" || key === "n" || key === "N")) {
      event.preventDefault();
      clickButton(".add-line");
      return;
    }
    var target = event.target;
    if (key !== "Enter" || event.shiftKey || !target.closest || !target.closest("#entry-form")) {
      return;
    }
    if (target.tagName === "TEXTAREA" || target.tagName === "BUTTON" || target.tagName === "A") {
      return;
    }
    // Enter never submits the form by accident: in the grid it moves down, or adds a line at
    // the bottom; in the header it does nothing.
    event.preventDefault();
    if (target.closest("#line-rows")) {
      moveDown(target);
    }
  });
})();
