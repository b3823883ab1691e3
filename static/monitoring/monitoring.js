// Progressive enhancement for the monitor's pages: audit times are printed in UTC by the server;
// this adds the reader's own local time beside them. Nothing else depends on script.
(function () {
  "use strict";
  function pad(n) { return String(n).padStart(2, "0"); }
  function localise() {
    var zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
    document.querySelectorAll("time[data-local-time]").forEach(function (el) {
      var moment = new Date(el.getAttribute("datetime"));
      if (isNaN(moment.getTime())) { return; }
      el.textContent = moment.getFullYear() + "-" + pad(moment.getMonth() + 1) + "-" + pad(moment.getDate()) +
        " " + pad(moment.getHours()) + ":" + pad(moment.getMinutes()) + (zone ? " " + zone : " local");
      el.title = "UTC " + el.getAttribute("datetime");
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", localise); } else { localise(); }
})();
