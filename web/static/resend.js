// The code page: keep "Send a new code" disabled and count down until the time the server allows a new code
// (data-resend-in, seconds). The server refuses an earlier request anyway; without this script the page says the time.
(function () {
  var form = document.querySelector("form.resend[data-resend-in]");
  if (!form) { return; }
  var button = form.querySelector("button[type=submit]");
  var words = document.getElementById("resend-when");
  var readyAt = Date.now() + parseInt(form.getAttribute("data-resend-in"), 10) * 1000;
  var lang = document.documentElement.lang || "zh-CN";
  var relative = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(lang, { numeric: "always" }) : null;

  function when(seconds) {
    var value = seconds >= 60 ? Math.ceil(seconds / 60) : seconds;
    var unit = seconds >= 60 ? "minute" : "second";
    return relative ? relative.format(value, unit) : "in " + value + " " + unit + (value === 1 ? "" : "s");
  }

  function tick() {
    var remaining = Math.ceil((readyAt - Date.now()) / 1000);
    if (remaining <= 0) {
      button.disabled = false;
      words.textContent = form.getAttribute("data-ready-text");
      return;
    }
    button.disabled = true;
    words.textContent = form.getAttribute("data-wait-text").replace("{when}", when(remaining));
    setTimeout(tick, 1000);
  }
  tick();
})();
