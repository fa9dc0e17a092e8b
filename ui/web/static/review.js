// The gold form: a click (or Enter) on a sentence of a source makes it the evidence of that source's
// document, in the row already holding that document or else the first empty one.
(function () {
  function choose(sentence) {
    var rows = Array.prototype.slice.call(document.querySelectorAll(".rv-evidence"));
    if (!rows.length) return;
    var doc = sentence.dataset.doc;
    var field = function (row, name) { return row.querySelector("[name^='" + name + "_']"); };
    var row = rows.find(function (r) { return field(r, "doc").value === doc; }) ||
      rows.find(function (r) { return !field(r, "doc").value && !field(r, "evidence").value.trim(); }) ||
      rows[0];
    field(row, "doc").value = doc;
    field(row, "section").value = sentence.dataset.section || "";
    field(row, "evidence").value = sentence.textContent.replace(/\s+/g, " ").trim();
    document.querySelectorAll(".rv-sentence.rv-chosen").forEach(function (el) {
      if (el.dataset.doc === doc) el.classList.remove("rv-chosen");
    });
    sentence.classList.add("rv-chosen");
    row.classList.add("rv-filled");
  }
  document.addEventListener("click", function (event) {
    var sentence = event.target.closest && event.target.closest(".rv-sentence");
    if (sentence) choose(sentence);
  });
  document.addEventListener("keydown", function (event) {
    var sentence = event.target.closest && event.target.closest(".rv-sentence");
    if (sentence && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      choose(sentence);
    }
  });
})();
