/* Complaint form: photos over 5 MB are made smaller in the browser before upload (progressive
   enhancement: without this script the server refuses them and gives the form back filled). */
(function () {
  "use strict";
  var input = document.querySelector("form.complaint-form input[name=evidence]");
  if (!input || !window.DataTransfer || !window.createImageBitmap || !HTMLCanvasElement.prototype.toBlob) return;
  var LIMIT = 5 * 1024 * 1024;
  var status = document.getElementById("evidence-status");
  var submit = input.form.querySelector("button[type=submit]");

  function say(key) {
    if (status) status.textContent = status.getAttribute("data-" + key) || "";
  }

  function encode(canvas, quality) {
    return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", quality); });
  }

  // Longest side 3000 px, then smaller steps until the JPEG fits: enough detail for evidence.
  function shrink(file) {
    return createImageBitmap(file).then(function (bitmap) {
      var side = Math.min(3000, Math.max(bitmap.width, bitmap.height));
      function attempt(side, quality) {
        var scale = side / Math.max(bitmap.width, bitmap.height);
        var canvas = document.createElement("canvas");
        canvas.width = Math.max(1, Math.round(bitmap.width * scale));
        canvas.height = Math.max(1, Math.round(bitmap.height * scale));
        canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        return encode(canvas, quality).then(function (blob) {
          if (blob && blob.size <= LIMIT) return blob;
          if (side < 800) throw new Error("cannot shrink");
          return attempt(Math.round(side * 0.75), 0.8);
        });
      }
      return attempt(side, 0.85);
    }).then(function (blob) {
      var name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
      return new File([blob], name, { type: "image/jpeg", lastModified: Date.now() });
    });
  }

  input.addEventListener("change", function () {
    var files = Array.prototype.slice.call(input.files || []);
    input.removeAttribute("data-ready");
    if (!files.some(function (f) { return f.size > LIMIT; })) { input.setAttribute("data-ready", "1"); return; }
    say("working");
    if (submit) submit.disabled = true;
    Promise.all(files.map(function (f) { return f.size > LIMIT ? shrink(f) : f; })).then(function (done) {
      var transfer = new DataTransfer();
      done.forEach(function (f) { transfer.items.add(f); });
      input.files = transfer.files;
      say("done");
    }).catch(function () {
      say("failed");
    }).then(function () {
      if (submit) submit.disabled = false;
      input.setAttribute("data-ready", "1");
    });
  });
})();
