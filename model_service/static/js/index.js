/* Filter the model cards as the user types (the search form also works without script). */
(function () {
  "use strict";

  var input = document.getElementById("model-search");
  if (!input) {
    return;
  }
  var cards = Array.prototype.slice.call(document.querySelectorAll(".model-card-item"));
  var noMatch = document.getElementById("no-match");
  var count = document.getElementById("search-count");

  function filter() {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    cards.forEach(function (card) {
      var text = card.dataset.search || "";
      var match = words.every(function (word) { return text.indexOf(word) >= 0; });
      card.hidden = !match;
      shown += match ? 1 : 0;
    });
    noMatch.hidden = shown > 0;
    count.textContent = words.length ? shown + " of " + cards.length + " models shown" : "";
  }

  input.addEventListener("input", filter);
  filter();
})();
