// PolyStatus: the only script. Pages work without it; it adds live timeline updates.
(function () {
  "use strict";
  var timeline = document.getElementById("timeline");
  if (!timeline || !window.EventSource) { return; }
  var source = new EventSource(timeline.getAttribute("data-live"));
  source.addEventListener("entry", function (event) {
    // The server renders and escapes each entry; it is parsed, never evaluated.
    var template = document.createElement("template");
    template.innerHTML = event.data;
    var item = template.content.firstElementChild;
    if (item) {
      item.classList.add("fresh");
      timeline.appendChild(item);
    }
  });
  source.addEventListener("unavailable", function () {
    timeline.setAttribute("aria-busy", "true");
  });
})();
