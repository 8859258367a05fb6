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
    // Settling copies attributes between the old and the new copy of an element; a copied style
    // attribute (the search list is placed with one) is refused by the policy.
    window.htmx.config.attributesToSettle = ["class", "width", "height"];
    // Nothing on the entry screen is animated between swap and settle: settle at once.
    window.htmx.config.defaultSettleDelay = 0;
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

  // --- saved or not ------------------------------------------------------------------------------

  // From the first edit until a save succeeds the page says so; a save that failed says so until
  // one succeeds. Both survive the swaps of the form, so they live here rather than in the page.
  var dirty = false;
  var saveFailed = false;
  var SAVE_ACTIONS = /^(save|submit|approve|post)$/;

  function showSaveState() {
    var unsaved = document.getElementById("entry-unsaved");
    if (unsaved) {
      unsaved.hidden = !dirty;
    }
    var failed = document.getElementById("entry-not-saved");
    if (failed) {
      failed.hidden = !saveFailed;
    }
  }

  function markDirty() {
    if (!dirty) {
      dirty = true;
      showSaveState();
    }
  }

  function isSave(elt) {
    return !!(elt && elt.name === "action" && SAVE_ACTIONS.test(elt.value || ""));
  }

  function saveFinished(ok) {
    if (ok) {
      dirty = false;
      saveFailed = false;
    } else {
      saveFailed = true;
    }
    showSaveState();
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    if (isSave(event.detail.requestConfig && event.detail.requestConfig.elt)) {
      var xhr = event.detail.xhr;
      saveFinished(xhr.status >= 200 && xhr.status < 300 && !redirectedToLogin(xhr));
    }
  });

  ["htmx:sendError", "htmx:timeout"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      if (isSave(event.detail.elt || (event.detail.requestConfig && event.detail.requestConfig.elt))) {
        saveFinished(false);
      }
    });
  });

  document.addEventListener("htmx:afterSettle", showSaveState);
  document.addEventListener("DOMContentLoaded", showSaveState);

  document.addEventListener("input", function (event) {
    if (event.target.closest && event.target.closest("#entry-form")) {
      markDirty();
    }
  });

  // --- account and party search as you type --------------------------------------------------

  var lookupInput = null;
  var lookupTimer = null;
  var passingChange = null; // a change this script dispatches itself, after resolving the code

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
      list.classList.remove("lookup-above");
    }
    if (lookupInput) {
      lookupInput.setAttribute("aria-expanded", "false");
      lookupInput.removeAttribute("aria-activedescendant");
    }
    lookupInput = null;
  }

  // Under the field, measured from the list's own containing block; above the field when the
  // window has no room below; never past the window's right edge.
  function placeLookup(input) {
    var list = lookupList();
    var parent = list.offsetParent || document.documentElement;
    var origin = parent.getBoundingClientRect();
    var box = input.getBoundingClientRect();
    var width = Math.max(box.width, 240);
    list.style.minWidth = width + "px";
    list.style.maxHeight = "";
    var height = list.offsetHeight;
    var below = window.innerHeight - box.bottom - 4;
    var above = box.top - 4;
    var flip = height > below && above > below;
    if (height > (flip ? above : below)) {
      list.style.maxHeight = Math.max(flip ? above : below, 80) + "px";
      height = list.offsetHeight;
    }
    var left = Math.min(box.left, window.innerWidth - list.offsetWidth - 4);
    left = Math.max(left, 0);
    var top = flip ? box.top - height : box.bottom;
    list.style.left = left - origin.left - parent.clientLeft + parent.scrollLeft + "px";
    list.style.top = top - origin.top - parent.clientTop + parent.scrollTop + "px";
    list.classList.toggle("lookup-above", flip);
  }

  // Errors shown above the field, a notice, a line added: the page moves, the list follows.
  if (window.ResizeObserver) {
    new window.ResizeObserver(function () {
      var list = lookupList();
      if (lookupInput && list && !list.hidden && lookupInput.isConnected) {
        placeLookup(lookupInput);
      }
    }).observe(document.documentElement);
  }

  function lookupUrl(input) {
    var root = entryRoot();
    var kind = input.getAttribute("data-lookup");
    return root.getAttribute(kind === "party" ? "data-party-search-url" : "data-account-search-url");
  }

  function lookupValues(input) {
    return {
      field: input.getAttribute("data-field"),
      section: input.closest("#line-rows") ? "line" : "header",
      q: input.value,
      version: entryRoot().getAttribute("data-config-version"),
    };
  }

  function searchLookup(input) {
    var root = entryRoot();
    var list = lookupList();
    if (!root || !list || !window.htmx) {
      return;
    }
    lookupInput = input;
    window.htmx
      .ajax("GET", lookupUrl(input), {
        source: input,
        target: list,
        swap: "innerHTML",
        values: lookupValues(input),
      })
      .then(function () {
        if (lookupInput !== input || document.activeElement !== input) {
          return;
        }
        list.hidden = false;
        placeLookup(input);
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

  function lookupName(input) {
    return document.getElementById(input.id + "-name");
  }

  function choose(input, code, name) {
    input.value = code;
    var label = lookupName(input);
    if (label) {
      label.textContent = name;
    }
    passingChange = input;
    input.dispatchEvent(new Event("change", { bubbles: true }));
    passingChange = null;
    showBalance(input);
  }

  // --- the posted balance beside an account or party ------------------------------------------

  // Shown only when the page offers it (to whoever may read the ledger): the balance posted up
  // to the voucher's date, asked for when an account or party is chosen or its field entered.
  var balanceAsked = new WeakMap();

  function balanceBox(input, create) {
    var id = input.id + "-balance";
    var box = document.getElementById(id);
    if (!box && create) {
      box = document.createElement("span");
      box.id = id;
      box.className = "lookup-balance";
      var after = lookupName(input) || input;
      after.insertAdjacentElement("afterend", box);
      var described = input.getAttribute("aria-describedby");
      input.setAttribute("aria-describedby", (described ? described + " " : "") + id);
    }
    return box;
  }

  function voucherDate() {
    var field = document.querySelector('#entry-form input.date[name="date"]');
    return field ? field.value.trim() : "";
  }

  function showBalance(input) {
    var root = entryRoot();
    var url = root && root.getAttribute("data-balance-url");
    var code = input.value.trim().split(" ")[0];
    var label = lookupName(input);
    if (!url || !window.fetch) {
      return;
    }
    if (!code || !label || !label.textContent) {
      var stale = balanceBox(input, false);
      if (stale) {
        stale.textContent = "";
      }
      return;
    }
    var params = new URLSearchParams();
    params.set(input.getAttribute("data-lookup") === "party" ? "party" : "account", code);
    params.set("date", voucherDate());
    var query = params.toString();
    if (balanceAsked.get(input) === query) {
      return;
    }
    balanceAsked.set(input, query);
    window
      .fetch(url + "?" + query, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (response) {
        return response.ok ? response.text() : "";
      })
      .catch(function () {
        return "";
      })
      .then(function (text) {
        if (balanceAsked.get(input) === query && input.isConnected) {
          balanceBox(input, true).textContent = text;
        }
      });
  }

  function showBalances(all) {
    var selector = all ? "#entry input.lookup" : "#entry-fields .entry-sections input.lookup";
    document.querySelectorAll(selector).forEach(function (input) {
      if (all ? balanceBox(input, false) : true) {
        balanceAsked.delete(input);
        showBalance(input);
      }
    });
  }

  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("#entry input.lookup")) {
      showBalance(event.target);
    }
  });

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.matches && input.matches('#entry-form input.date[name="date"]')) {
      showBalances(true); // the date changed: every balance shown is asked for again
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    showBalances(false);
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.target && event.detail.target.id === "entry") {
      showBalances(false);
    }
  });

  function pick(option) {
    var input = lookupInput;
    if (!input || !option) {
      return;
    }
    closeLookup();
    choose(input, option.getAttribute("data-code"), option.getAttribute("data-name"));
  }

  // What was typed, resolved as the server resolves it on save: the exact code, or the first
  // word when it is a code ("1120 Main bank account"), else the one code or name matching.
  function searchOptions(input, query) {
    var params = new URLSearchParams(lookupValues(input));
    params.set("q", query);
    return window
      .fetch(lookupUrl(input) + "?" + params.toString(), {
        credentials: "same-origin",
        headers: { "HX-Request": "true" },
      })
      .then(function (response) {
        return response.ok ? response.text() : "";
      })
      .then(function (html) {
        var holder = document.createElement("template");
        holder.innerHTML = html;
        return Array.prototype.slice.call(holder.content.querySelectorAll("[data-code]"));
      });
  }

  function withCode(options, code) {
    return options.filter(function (option) {
      return option.getAttribute("data-code") === code;
    })[0];
  }

  function resolveTyped(input) {
    var typed = input.value.trim();
    var first = typed.split(" ")[0];
    return searchOptions(input, typed)
      .then(function (options) {
        var exact = withCode(options, typed);
        if (exact || first === typed) {
          return exact || (options.length === 1 ? options[0] : null);
        }
        return searchOptions(input, first).then(function (byFirst) {
          return withCode(byFirst, first) || (options.length === 1 ? options[0] : null);
        });
      })
      .catch(function () {
        return null;
      });
  }

  // A code typed faster than the list appears is resolved when the field is left; the change
  // waits for it, so neither the check nor the totals see the half-typed text.
  document.addEventListener(
    "change",
    function (event) {
      var input = event.target;
      if (!input.matches || !input.matches("#entry input.lookup") || input === passingChange) {
        return;
      }
      var label = lookupName(input);
      if (!input.value.trim() || (label && label.textContent)) {
        return;
      }
      event.stopImmediatePropagation();
      resolveTyped(input).then(function (option) {
        if (option) {
          choose(input, option.getAttribute("data-code"), option.getAttribute("data-name"));
        } else {
          passingChange = input;
          input.dispatchEvent(new Event("change", { bubbles: true }));
          passingChange = null;
        }
      });
    },
    true
  );

  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("#entry input.lookup") || input.readOnly) {
      return;
    }
    var name = lookupName(input);
    if (name) {
      name.textContent = "";
    }
    var balance = balanceBox(input, false);
    if (balance) {
      balance.textContent = "";
      balanceAsked.delete(input);
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
    if (event.target.matches && event.target.matches("#entry input.lookup")) {
      window.clearTimeout(lookupTimer); // a search typed but not yet sent is not wanted now
    }
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
      var input = lookupInput;
      pick(options[current]);
      moveOn(input); // as in Tally: taking a match moves on
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

  // --- Enter moves on ------------------------------------------------------------------------

  function visibleRows() {
    return Array.prototype.slice.call(document.querySelectorAll("#line-rows > tr.line"));
  }

  function editable(element) {
    return (
      element.type !== "hidden" &&
      !element.disabled &&
      !element.readOnly &&
      element.tabIndex >= 0 &&
      !element.closest("[hidden]") &&
      element.getClientRects().length > 0
    );
  }

  function fieldsIn(container) {
    return Array.prototype.slice
      .call(container.querySelectorAll("input, select, textarea"))
      .filter(editable);
  }

  function focusField(target) {
    target.focus();
    if (target.select && target.tagName === "INPUT" && target.type === "text") {
      target.select();
    }
  }

  // The next field in the form; past the last field of the last line, a new line.
  function moveOn(input) {
    var form = document.getElementById("entry-form");
    if (!form) {
      return;
    }
    var row = input.closest("#line-rows > tr.line");
    if (row) {
      var rows = visibleRows();
      var inRow = fieldsIn(row);
      if (row === rows[rows.length - 1] && inRow[inRow.length - 1] === input) {
        clickButton(".add-line"); // the new line takes the focus (autofocus)
        return;
      }
    }
    var fields = fieldsIn(form);
    var next = fields[fields.indexOf(input) + 1];
    if (next) {
      focusField(next);
    }
  }

  // --- removing a line, and bringing it back -------------------------------------------------

  var removedLines = [];

  function currentRow() {
    var active = document.activeElement;
    return active && active.closest ? active.closest("#line-rows > tr.line") : null;
  }

  function removeLine(row) {
    var button = row && row.querySelector(".remove-line");
    if (!button || button.disabled) {
      return;
    }
    var values = fieldsIn(row)
      .concat(Array.prototype.slice.call(row.querySelectorAll("input[type=hidden]")))
      .map(function (input) {
        return { id: input.id, name: input.name, value: input.value, checked: input.checked };
      });
    removedLines.push({
      id: row.id,
      copy: row.cloneNode(true),
      values: values,
      number: row.querySelector(".line-number").textContent,
    });
    var root = entryRoot();
    var url = root && root.getAttribute("data-remove-line-url");
    if (!window.htmx || !url) {
      button.click(); // the plain form post
      return;
    }
    window.htmx.ajax("POST", url, {
      source: button,
      target: "#" + row.id,
      swap: "outerHTML",
      values: { action: button.value },
    });
  }

  function showUndoNotice() {
    var notice = document.getElementById("entry-undo");
    if (!notice) {
      return;
    }
    var last = removedLines[removedLines.length - 1];
    notice.hidden = !last;
    if (last) {
      notice.querySelector(".entry-undo-text").textContent = "Line " + last.number + " removed.";
    }
  }

  function undoRemove() {
    var last = removedLines.pop();
    var placeholder = last && document.getElementById(last.id);
    if (!placeholder) {
      showUndoNotice();
      return false;
    }
    var row = last.copy;
    placeholder.replaceWith(row);
    last.values.forEach(function (saved) {
      var input = saved.name ? row.querySelector('[name="' + saved.name + '"]') : null;
      if (input) {
        if (input.type === "checkbox") {
          input.checked = saved.checked;
        } else {
          input.value = saved.value;
        }
      }
    });
    if (window.htmx) {
      window.htmx.process(row);
      window.htmx.trigger(document.body, "entry:lines-changed");
    }
    renumberLines();
    markDirty();
    showUndoNotice();
    var first = fieldsIn(row)[0];
    if (first) {
      first.focus();
    }
    return true;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".remove-line");
    if (button && event.isTrusted) {
      // A click of the button itself (the keyboard path records the line before clicking).
      var row = button.closest("tr.line");
      if (row) {
        event.preventDefault();
        event.stopImmediatePropagation();
        removeLine(row);
      }
      return;
    }
    if (event.target.closest && event.target.closest(".entry-undo-button")) {
      undoRemove();
    }
  }, true);

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (target && /^line-\d+$/.test(target.id)) {
      markDirty();
      showUndoNotice();
    } else if (target && target.id === "line-rows") {
      markDirty();
    } else if (target && target.id === "entry") {
      removedLines = [];
    }
  });

  // What a text field held when the focus came to it: Ctrl+Z there is the field's own undo
  // once it has been edited.
  var valueOnFocus = null;
  document.addEventListener("focusin", function (event) {
    valueOnFocus = "value" in event.target ? event.target.value : null;
  });

  function editingText(target) {
    var text = target.tagName === "TEXTAREA" || (target.tagName === "INPUT" && target.type === "text");
    return text && target.value !== valueOnFocus;
  }

  // --- the balancing amount ------------------------------------------------------------------

  function difference() {
    var totals = document.querySelector("#entry-totals [data-difference]");
    var value = totals ? parseFloat(totals.getAttribute("data-difference")) : 0;
    return isNaN(value) ? 0 : value;
  }

  // Entering the amount of a line with nothing in it yet, while the voucher does not balance:
  // the difference is proposed, selected, so Enter takes it and typing replaces it. With debit
  // and credit columns, only on the side that balances.
  document.addEventListener("focusin", function (event) {
    var input = event.target;
    var root = entryRoot();
    if (!root || !input.matches || !input.matches("#line-rows input.amount") || input.value) {
      return;
    }
    var row = input.closest("tr.line");
    var empty = fieldsIn(row).every(function (field) {
      return field.type === "checkbox" || field.tagName === "SELECT" || !field.value;
    });
    var diff = difference();
    if (!row || !diff) {
      return;
    }
    var key = (input.name || "").replace(/^lines-\d+-/, "");
    var debitKey = root.getAttribute("data-debit-field");
    var creditKey = root.getAttribute("data-credit-field");
    var amounts = Array.prototype.slice.call(row.querySelectorAll("input.amount"));
    if (amounts.some(function (other) { return other.value; })) {
      return;
    }
    if (debitKey && creditKey) {
      var side = diff > 0 ? creditKey : debitKey;
      if (key !== side) {
        return;
      }
    } else if (!empty && row !== visibleRows()[visibleRows().length - 1]) {
      return;
    }
    input.value = Math.abs(diff).toFixed(2);
    input.select();
    markDirty();
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });

  // --- dates: one field, a calendar on demand -----------------------------------------------

  // The organization's format (a strftime pattern on #entry): the calendar reads and writes it.
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  function datePattern() {
    var root = entryRoot();
    return (root && root.getAttribute("data-date-format")) || "%Y-%m-%d";
  }

  function two(number) {
    return (number < 10 ? "0" : "") + number;
  }

  // "2026-03-15" from what was typed: ISO, or the organization's format; "" when neither.
  function isoFromTyped(text) {
    var typed = text.trim();
    if (/^\d{4}-\d{2}-\d{2}$/.test(typed)) {
      return typed;
    }
    var pattern = datePattern();
    var parts = typed.split(/[\/ ]/);
    var day, month, year;
    if (pattern === "%d/%m/%Y" || pattern === "%m/%d/%Y") {
      if (parts.length !== 3) {
        return "";
      }
      day = Number(parts[pattern === "%d/%m/%Y" ? 0 : 1]);
      month = Number(parts[pattern === "%d/%m/%Y" ? 1 : 0]);
      year = Number(parts[2]);
    } else if (pattern === "%d %b %Y") {
      if (parts.length !== 3) {
        return "";
      }
      day = Number(parts[0]);
      month = MONTHS.map(function (name) { return name.toLowerCase(); }).indexOf(parts[1].toLowerCase()) + 1;
      year = Number(parts[2]);
    }
    if (!day || !month || !year || month > 12 || day > 31 || year < 1000) {
      return "";
    }
    return year + "-" + two(month) + "-" + two(day);
  }

  function typedFromIso(iso) {
    var year = iso.slice(0, 4);
    var month = Number(iso.slice(5, 7));
    var day = iso.slice(8, 10);
    switch (datePattern()) {
      case "%d/%m/%Y":
        return day + "/" + two(month) + "/" + year;
      case "%m/%d/%Y":
        return two(month) + "/" + day + "/" + year;
      case "%d %b %Y":
        return day + " " + MONTHS[month - 1] + " " + year;
      default:
        return iso;
    }
  }

  function openCalendar(input) {
    var picker = document.createElement("input");
    picker.type = "date";
    picker.className = "date-picker";
    picker.tabIndex = -1;
    picker.value = isoFromTyped(input.value);
    input.insertAdjacentElement("afterend", picker);
    var closed = false;
    function close() {
      if (!closed) {
        closed = true; // removing the focused picker blurs it: close once
        picker.remove();
      }
    }
    function done() {
      if (picker.value) {
        input.value = typedFromIso(picker.value);
        input.dispatchEvent(new Event("input", { bubbles: true }));
        input.dispatchEvent(new Event("change", { bubbles: true }));
      }
      close();
      input.focus();
    }
    picker.addEventListener("change", done);
    picker.addEventListener("blur", close);
    picker.focus();
    try {
      picker.showPicker();
    } catch (error) {
      // Without a picker the field still takes a typed date.
    }
  }

  // --- the keyboard ----------------------------------------------------------------------------

  // Every key the screen takes, in one list: the shortcut card is drawn from it.
  var SHORTCUTS = [
    ["Enter", "Next field; after the last field of the last line, a new line; in the matches, take the highlighted one"],
    ["Shift+Enter", "A new line within a note"],
    ["ArrowDown", "In the matches: the next one"],
    ["ArrowUp", "In the matches: the one before"],
    ["Escape", "Close the matches, or this card"],
    ["Alt+N", "Add a line"],
    ["Control+Delete", "Remove the line you are in"],
    ["Control+Z", "Bring back the last removed line (when not editing a field)"],
    ["Alt+ArrowDown", "Calendar of a date field"],
    ["Control+S", "Save"],
    ["Control+Enter", "Post, or submit for approval"],
    ["Alt+Shift+D", "Duplicate this voucher as a new draft dated today (once it is saved)"],
    ["?", "This card (when not typing in a field)"],
    ["F1", "This card"],
  ];

  function keyCard() {
    var card = document.getElementById("entry-keys");
    if (card) {
      return card;
    }
    card = document.createElement("dialog");
    card.id = "entry-keys";
    card.className = "entry-keys";
    card.setAttribute("aria-labelledby", "entry-keys-title");
    var title = document.createElement("h2");
    title.id = "entry-keys-title";
    title.textContent = "Keys";
    card.appendChild(title);
    var list = document.createElement("dl");
    SHORTCUTS.forEach(function (entry) {
      var item = document.createElement("div");
      item.setAttribute("data-key", entry[0]);
      var term = document.createElement("dt");
      var kbd = document.createElement("kbd");
      kbd.textContent = entry[0].replace("Control", "Ctrl").replace("Arrow", "");
      term.appendChild(kbd);
      var description = document.createElement("dd");
      description.textContent = entry[1];
      item.appendChild(term);
      item.appendChild(description);
      list.appendChild(item);
    });
    card.appendChild(list);
    var close = document.createElement("button");
    close.type = "button";
    close.textContent = "Close";
    close.addEventListener("click", function () {
      card.close();
    });
    card.appendChild(close);
    document.body.appendChild(card);
    return card;
  }

  function typingIn(target) {
    return (
      target.tagName === "TEXTAREA" ||
      target.tagName === "SELECT" ||
      (target.tagName === "INPUT" && !/^(checkbox|radio|button|submit)$/.test(target.type))
    );
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
    var target = event.target;
    var command = event.ctrlKey || event.metaKey;
    if (key === "F1" || (key === "?" && !command && !typingIn(target))) {
      event.preventDefault();
      var card = keyCard();
      if (!card.open) {
        card.showModal();
      }
      return;
    }
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
    if (command && key === "Delete") {
      var row = currentRow();
      if (row) {
        event.preventDefault();
        removeLine(row);
      }
      return;
    }
    if (command && (key === "z" || key === "Z") && !event.shiftKey) {
      if (removedLines.length && !editingText(target)) {
        event.preventDefault();
        undoRemove();
      }
      return;
    }
    if (event.altKey && !command && (event.code === "KeyN" || key === "n" || key === "N")) {
      event.preventDefault();
      clickButton(".add-line");
      return;
    }
    if (event.altKey && event.shiftKey && !command && event.code === "KeyD") {
      event.preventDefault();
      clickButton('[data-shortcut="duplicate"]');
      return;
    }
    if (event.altKey && key === "ArrowDown" && target.matches && target.matches("#entry input.date")) {
      event.preventDefault();
      openCalendar(target);
      return;
    }
    if (key !== "Enter" || event.shiftKey || command || !target.closest || !target.closest("#entry-form")) {
      return;
    }
    if (target.tagName === "BUTTON" || target.tagName === "A") {
      return; // a button presses itself
    }
    // Enter never submits the form by accident: it moves on, as in Tally (Shift+Enter starts
    // a new line in a note).
    event.preventDefault();
    moveOn(target);
  });

  // The first field takes the focus when the page opens (not after a swap: htmx autofocus).
  function focusFirstField() {
    var form = document.getElementById("entry-form");
    if (!form || form.contains(document.activeElement)) {
      return;
    }
    // The first field that takes input: found without measuring the whole (perhaps long) grid.
    // Focusing a text field lays out the page: the first layout, which the first paint reuses.
    var fields = form.querySelectorAll("input, select, textarea");
    for (var i = 0; i < fields.length; i += 1) {
      if (editable(fields[i])) {
        fields[i].focus();
        return;
      }
    }
  }

  // The moment the form can be used (its first field focused, every handler above bound, htmx
  // started): a User Timing mark that the browser benchmark (E6) and the profiler read.
  document.addEventListener("DOMContentLoaded", function () {
    focusFirstField();
    if (entryRoot() && window.performance && window.performance.mark) {
      window.performance.mark("entry-interactive");
    }
  });
})();
