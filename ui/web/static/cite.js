// A `[n]` link in an answer opens that answer's sources and scrolls the source into view.
document.addEventListener("click", function (event) {
  const link = event.target.closest && event.target.closest('a[href^="#src-"]');
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  const target = document.getElementById(link.getAttribute("href").slice(1));
  if (!target) return;
  const turn = target.closest("details.pa-turn");
  if (turn) turn.open = true;
  document.querySelectorAll(".pa-source.pa-target").forEach(function (el) { el.classList.remove("pa-target"); });
  target.classList.add("pa-target");
  target.scrollIntoView({behavior: "smooth", block: "center"});
}, true);
