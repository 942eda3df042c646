/* Verify by picture: submit as soon as a picture is chosen (the submit buttons still work without JS). */
(function () {
  "use strict";
  var inputs = document.querySelectorAll("form.upload input[type=file]");
  Array.prototype.forEach.call(inputs, function (input) {
    input.addEventListener("change", function () {
      if (input.files && input.files.length) input.form.submit();
    });
  });
})();
