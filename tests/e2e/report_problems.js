// Added to every page before its own scripts, outside its Content-Security-Policy: a violation
// the browser only reports as an event reaches the console, where the tests collect it.
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(
    `CSP violation: ${event.violatedDirective} refused ${event.blockedURI || "inline code"}` +
      ` at ${event.sourceFile}:${event.lineNumber}:${event.columnNumber}` +
      (event.sample ? ` (${event.sample})` : "")
  );
});
