// Progressive help for the console's forms (the forms work without it): a GTIN is checked as
// it is typed. Messages come from the page (data-* attributes), never from this file.
(function () {
  "use strict";
  function gtinOk(v) {
    if (!/^\d{13}$/.test(v)) return false;
    var sum = 0;
    for (var i = 0; i < 12; i++) sum += Number(v[i]) * (i % 2 === 0 ? 1 : 3);
    return (10 - (sum % 10)) % 10 === Number(v[12]);
  }
  document.querySelectorAll("input[data-gtin]").forEach(function (input) {
    var out = document.getElementById(input.id + "-live");
    if (!out) return;
    input.addEventListener("input", function () {
      var v = input.value.trim();
      if (v === "") { out.textContent = ""; input.removeAttribute("aria-invalid"); return; }
      var ok = gtinOk(v);
      out.textContent = ok ? input.dataset.gtinOk : input.dataset.gtinBad;
      out.className = ok ? "hint ok" : "error";
      if (ok) input.removeAttribute("aria-invalid"); else input.setAttribute("aria-invalid", "true");
    });
  });
})();
