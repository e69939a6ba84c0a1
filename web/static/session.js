// Before a signed-in page's session idles out: warn (announced), offer to stay signed in, and say when it has ended.
// The server's clock decides: <body data-session-left> says how long was left when the page was served, and before
// warning the page asks again (GET /session), since another tab may have used the session meanwhile.
(function () {
  var left = parseInt(document.body.getAttribute("data-session-left"), 10);
  var box = document.getElementById("session-warning");
  if (isNaN(left) || !box) { return; }
  var warnBefore = parseInt(box.getAttribute("data-warn-before"), 10) || 120;
  var text = box.querySelector(".session-warning-text");
  var stay = box.querySelector(".session-stay");
  var ended = box.querySelector(".session-ended");
  var lang = document.documentElement.lang || "zh-CN";
  var relative = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(lang, { numeric: "always" }) : null;
  var endsAt = 0, timer = null, said = "";

  function when(seconds) {  // "in 2 minutes" / "2分钟后": whole minutes (rounded up), then tens of seconds
    var value = seconds >= 60 ? Math.ceil(seconds / 60) : Math.max(1, Math.ceil(seconds / 10) * 10);
    var unit = seconds >= 60 ? "minute" : "second";
    return relative ? relative.format(value, unit) : value + " " + unit + (value === 1 ? "" : "s");
  }

  function schedule(secondsLeft) {
    endsAt = Date.now() + secondsLeft * 1000;
    clearTimeout(timer);
    timer = setTimeout(check, Math.max(0, (secondsLeft - warnBefore) * 1000));
  }

  function check() {
    fetch(box.getAttribute("data-status-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        if (body.seconds_left > warnBefore + 1) { hide(); schedule(body.seconds_left); } else { warn(body.seconds_left); }
      })
      .catch(function () { warn(Math.max(0, Math.round((endsAt - Date.now()) / 1000))); });
  }

  function warn(secondsLeft) {
    endsAt = Date.now() + secondsLeft * 1000;
    box.hidden = false;
    clearTimeout(timer);
    tick();
  }

  function tick() {
    var remaining = Math.round((endsAt - Date.now()) / 1000);
    if (remaining <= 0) {
      // The end: confirm with the server (another tab may have kept it alive) before saying so.
      fetch(box.getAttribute("data-status-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (body) { if (body.seconds_left > 0) { hide(); schedule(body.seconds_left); } else { showEnded(); } })
        .catch(showEnded);
      return;
    }
    var sentence = box.getAttribute("data-ends-text").replace("{when}", when(remaining));
    if (sentence !== said) { text.textContent = sentence; said = sentence; }  // re-announced only when it changes
    timer = setTimeout(tick, 1000);
  }

  function showEnded() {
    text.hidden = true; stay.hidden = true; ended.hidden = false; box.hidden = false;
  }

  function hide() { box.hidden = true; said = ""; text.textContent = ""; }

  stay.addEventListener("click", function () {
    var token = document.querySelector(".signout input[name=csrf_token]");
    fetch(box.getAttribute("data-extend-url"), {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": token ? token.value : "", Accept: "application/json" }
    }).then(function (r) { return r.json(); })
      .then(function (body) { if (body.seconds_left > 0) { hide(); schedule(body.seconds_left); } else { showEnded(); } })
      .catch(showEnded);
  });

  schedule(left);
})();
