/* Complaint receipt: the address bar shows the private tracking link itself (not the receipt's
   "?filed=1" address), and a button copies it (progressive: without JS the link is still there). */
(function () {
  "use strict";
  var link = document.getElementById("tracking-link");
  if (!link) return;
  if (window.history && history.replaceState) {
    try { history.replaceState(null, "", link.href); } catch (e) { /* another origin: leave it */ }
  }
  var button = document.querySelector("button.copy-link");
  if (!button) return;
  button.hidden = false;
  var label = button.textContent;
  button.addEventListener("click", function () {
    var done = function () {
      button.textContent = button.getAttribute("data-done") || label;
      setTimeout(function () { button.textContent = label; }, 2000);
    };
    var fallback = function () {
      var range = document.createRange();
      range.selectNodeContents(link);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      try { document.execCommand("copy"); } catch (e) { /* selected: the person copies it */ }
      done();
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(link.href).then(done, fallback);
    } else {
      fallback();
    }
  });
})();
