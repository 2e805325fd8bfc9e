// Meeting form: show the chosen venue's zone beside the times, offer only that venue's rooms.
// Works without it: the server checks both.
(function () {
  "use strict";
  var venue = document.getElementById("venue_id");
  var room = document.getElementById("room_id");
  if (!venue) { return; }
  function update() {
    var option = venue.options[venue.selectedIndex];
    var zone = option ? option.getAttribute("data-zone") : "";
    document.querySelectorAll("[data-zone-label]").forEach(function (el) { el.textContent = zone; });
    document.querySelectorAll("#start-hint, #end-hint").forEach(function (el) { el.textContent = "24-hour clock, in " + zone + "."; });
    if (room) {
      Array.prototype.forEach.call(room.options, function (opt) {
        var owner = opt.getAttribute("data-venue");
        var show = !owner || owner === venue.value;
        opt.hidden = !show;
        opt.disabled = !show;
        if (!show && opt.selected) { room.value = "0"; }
      });
    }
  }
  venue.addEventListener("change", update);
  update();
  document.querySelectorAll(".attendees select").forEach(function (select) {
    select.addEventListener("change", function () {
      select.closest("li").classList.toggle("attending", select.value !== "");
    });
  });
})();
