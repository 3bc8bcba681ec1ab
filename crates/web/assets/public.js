// The buyer's order page: the time left counts down, and account numbers copy with one tap.
// Without this script the page shows the time left when it was loaded and the numbers as text.
(function () {
  function words(el, seconds) {
    if (seconds <= 0) return el.dataset.over;
    var d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600), m = Math.floor(seconds % 3600 / 60);
    var parts = [];
    if (d > 0) parts.push(d + " " + el.dataset.day);
    if (h > 0) parts.push(h + " " + el.dataset.hour);
    if (d === 0) parts.push(m + " " + el.dataset.minute);
    return parts.join(" ");
  }
  document.querySelectorAll("[data-countdown]").forEach(function (el) {
    var end = Date.parse(el.dataset.countdown);
    // Counted on the server's clock, not the phone's: the page says when it was made.
    var skew = Date.parse(el.dataset.now) - Date.now();
    if (isNaN(end) || isNaN(skew)) return;
    function tick() { el.textContent = words(el, Math.floor((end - Date.now() - skew) / 1000)); }
    tick();
    setInterval(tick, 15000);
  });
  if (navigator.clipboard) {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(button.dataset.copy).then(function () {
          button.textContent = button.dataset.done;
        });
      });
    });
  }
})();
