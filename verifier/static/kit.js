/* Embed kit: copy buttons and the print button (progressive: without JS the textareas still work). */
(function () {
  "use strict";
  var buttons = document.querySelectorAll("button.copy[data-copy]");
  Array.prototype.forEach.call(buttons, function (button) {
    var area = document.getElementById(button.getAttribute("data-copy"));
    if (!area) return;
    button.hidden = false;
    var label = button.textContent;
    button.addEventListener("click", function () {
      area.select();
      var done = function () {
        button.textContent = button.getAttribute("data-done") || label;
        setTimeout(function () { button.textContent = label; }, 1500);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(area.value).then(done, function () { document.execCommand("copy"); done(); });
      } else {
        document.execCommand("copy");
        done();
      }
    });
  });
  var print = document.querySelector("button.print");
  if (print) {
    print.hidden = false;
    if (print.disabled) return; // a withdrawn badge's card is void: nothing to print
    print.addEventListener("click", function () { window.print(); });
  }
})();
