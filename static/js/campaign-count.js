// The campaign editor's live count: when a criterion or the channel changes, ask the server
// how many people the target reaches and show it. Without JavaScript, "Compter la cible" does it.
(function () {
  "use strict";
  var form = document.getElementById("campaign-form");
  var output = document.getElementById("audience");
  if (!form || !output || !window.fetch) { return; }
  var names = ["channel", "segments", "segment_shop_id", "shop_id", "shop_visited", "shop_since", "shop_until",
               "last_visit_after", "last_visit_before", "postcodes", "kind", "contest_id", "saved_target_id"];
  var timer = null;

  function query() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (names.indexOf(name) !== -1 && value !== "") { params.append(name, value); }
    });
    return params.toString();
  }

  function show(figures) {
    var list = output.querySelector("[data-audience]");
    if (!list) { return; }
    Object.keys(figures).forEach(function (key) {
      var cell = list.querySelector('[data-field="' + key + '"]');
      if (cell) { cell.textContent = Number(figures[key]).toLocaleString(document.documentElement.lang || "fr"); }
    });
  }

  function refresh() {
    fetch(form.dataset.countUrl + "?" + query(), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (figures) { if (figures) { show(figures); } })
      .catch(function () {});
  }

  form.addEventListener("change", function (event) {
    if (names.indexOf(event.target.name) === -1) { return; }
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  });
})();
