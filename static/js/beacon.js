/*
 * Entry-page beacon for the rollout's parallel run: the browser's load time, the time spent on
 * the page, and HTMX requests that failed, posted to the metrics beacon endpoint. It only acts
 * on a page whose root element carries data-entry-channel and data-voucher-type, and needs no
 * inline script, so it runs under a strict Content-Security-Policy (script-src 'self').
 *
 * Include it with: <script src="{% static 'js/beacon.js' %}" data-beacon-url="{% url 'metrics-beacon' %}" defer></script>
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var url = (script && script.getAttribute("data-beacon-url")) || "/metrics/beacon/";
  var root = document.querySelector("[data-entry-channel][data-voucher-type]");
  if (!root || !navigator.sendBeacon || !window.URLSearchParams) {
    return;
  }
  var channel = root.getAttribute("data-entry-channel");
  var voucherType = root.getAttribute("data-voucher-type");
  var MAX_HTMX_REPORTS = 20;
  var htmxReports = 0;

  // The layout puts the CSRF token on <body hx-headers='{"x-csrftoken": "..."}'>; a beacon
  // cannot set headers, so the token travels in the form body, where Django also looks.
  function csrfToken() {
    try {
      var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
      return headers["x-csrftoken"] || headers["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function send(fields) {
    var token = csrfToken();
    if (!token) {
      return;
    }
    var body = new URLSearchParams(fields);
    body.set("channel", channel);
    body.set("type", voucherType);
    body.set("csrfmiddlewaretoken", token);
    navigator.sendBeacon(url, body);
  }

  function reportLoad() {
    var entries = performance.getEntriesByType ? performance.getEntriesByType("navigation") : [];
    var navigation = entries[0];
    if (!navigation || !(navigation.loadEventEnd > 0)) {
      return;
    }
    send({ kind: "load", ms: Math.round(navigation.loadEventEnd - navigation.startTime) });
  }

  if (document.readyState === "complete") {
    setTimeout(reportLoad, 0);
  } else {
    // loadEventEnd is only set once the load handlers have run, hence the timeout.
    window.addEventListener("load", function () { setTimeout(reportLoad, 0); }, { once: true });
  }

  // Time on the page: performance.now() counts from the start of the navigation.
  var sessionSent = false;
  window.addEventListener("pagehide", function () {
    if (!sessionSent) {
      sessionSent = true;
      send({ kind: "session", ms: Math.round(performance.now()) });
    }
  });

  function reportHtmxError(event, status) {
    var detail = event.detail || {};
    var requested = (detail.pathInfo && detail.pathInfo.requestPath) || "";
    if (!requested || htmxReports >= MAX_HTMX_REPORTS) {
      return;
    }
    // The server counts the endpoint's URL name, so only the path is sent, never a query.
    var path = new URL(requested, window.location.href).pathname;
    htmxReports += 1;
    send({ kind: "htmx", path: path, status: String(status) });
  }

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail && event.detail.xhr;
    reportHtmxError(event, xhr ? xhr.status : 0);
  });
  document.addEventListener("htmx:sendError", function (event) { reportHtmxError(event, 0); });
  document.addEventListener("htmx:timeout", function (event) { reportHtmxError(event, 0); });
})();
