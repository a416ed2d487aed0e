/* Live alerts: one websocket to /ws/alerts/ (path in #alert-count's data-socket). A new alert
   shows a toast; every event carries the open count, which replaces the number in the top bar.
   When the socket drops (a server restart, a deploy) it reconnects with exponential backoff
   and jitter (1 s doubling to 30 s), and the count is sent again on each connect.
   Text from the server is set with textContent, never parsed as HTML. */
(function () {
  "use strict";
  var counter = document.getElementById("alert-count");
  var toasts = document.getElementById("alert-toasts");
  if (!counter || !toasts || !window.WebSocket) return;

  var path = counter.getAttribute("data-socket") || "/ws/alerts/";
  var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
  var FIRST_DELAY = 1000, MAX_DELAY = 30000, TOAST_MS = 10000;
  var delay = FIRST_DELAY, timer = null;

  function setCount(n) {
    if (typeof n !== "number") return;
    counter.textContent = String(n);
    counter.setAttribute("data-count", String(n));
    counter.classList.toggle("has-open", n > 0);
  }

  function toast(alert) {
    var box = document.createElement("div");
    box.className = "alert-toast sev-" + (alert.severity || "info");
    box.setAttribute("data-alert", String(alert.id));
    var head = document.createElement("a");
    head.className = "alert-toast-title";
    head.href = alert.url || "/alerts/";
    head.textContent = alert.title;
    var body = document.createElement("p");
    body.textContent = alert.message;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "alert-toast-close";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "\u00d7";
    close.addEventListener("click", function () { box.remove(); });
    box.appendChild(close);
    box.appendChild(head);
    box.appendChild(body);
    toasts.appendChild(box);
    setTimeout(function () { box.remove(); }, TOAST_MS);
  }

  function connect() {
    timer = null;
    var socket;
    try { socket = new WebSocket(url); } catch (e) { return retry(); }
    socket.onopen = function () {
      delay = FIRST_DELAY;
      counter.classList.remove("offline");
      counter.setAttribute("data-live", "true");
    };
    socket.onmessage = function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (data.type === "alert" && data.alert) toast(data.alert);
      setCount(data.open_count);
    };
    socket.onclose = function (event) {
      counter.classList.add("offline");
      counter.setAttribute("data-live", "false");
      // 4401/4403: signed out or no longer allowed; reconnecting would only be refused again.
      if (event.code === 4401 || event.code === 4403) return;
      retry();
    };
  }

  function retry() {
    if (timer) return;
    var wait = delay / 2 + Math.random() * delay / 2;
    delay = Math.min(delay * 2, MAX_DELAY);
    timer = setTimeout(connect, wait);
  }

  connect();
})();
