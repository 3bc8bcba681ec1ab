// lunas dashboard: the live previews of the Settings page (reminders, messages), and the new-order
// form's lines and running total. Everything works without this script (each Preview button posts
// its form, "Tambah barang" posts the form back with one more line); it only saves round trips.
// Text is put in with textContent, never as HTML.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // The print page's button: the browser's print dialog (Ctrl+P works without it).
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  document.querySelectorAll("form[data-preview]").forEach(function (form) {
    var out = document.getElementById(form.dataset.previewTarget);
    if (!out) return;
    var timer = null;
    function show(data) {
      var list = out.querySelector("ol");
      var error = out.querySelector(".error");
      if (!error) {
        error = document.createElement("p");
        error.className = "error";
        error.setAttribute("role", "alert");
        out.insertBefore(error, list);
      }
      error.textContent = data.error || "";
      error.hidden = !data.error;
      list.textContent = "";
      (data.steps || []).forEach(function (step) {
        var li = document.createElement("li");
        var time = document.createElement("time");
        time.textContent = step.when;
        var pre = document.createElement("pre");
        pre.className = "message";
        pre.textContent = step.text;
        li.appendChild(time);
        li.appendChild(pre);
        list.appendChild(li);
      });
      out.dataset.state = "fresh";
    }
    function refresh() {
      out.dataset.state = "loading";
      fetch(form.dataset.preview, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        credentials: "same-origin",
        headers: { "Accept": "application/json" }
      })
        .then(function (r) { return r.json(); })
        .then(show)
        .catch(function () { out.dataset.state = "error"; });
    }
    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 300);
    });
  });

  document.querySelectorAll("form[data-order-form]").forEach(orderForm);
});

// Rupiah as sellers type it: "15.000", "Rp15.000", "15.000,00". Anything else counts as zero here;
// the server reads and checks the amount.
function rupiah(raw) {
  var s = String(raw || "").replace(/rp/i, "").replace(/\s/g, "").replace(/,\d{1,2}$/, "").replace(/\./g, "");
  return /^\d+$/.test(s) ? parseInt(s, 10) : 0;
}

function formatRupiah(n) {
  var sign = n < 0 ? "-" : "";
  return sign + "Rp" + String(Math.abs(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ".");
}

function orderForm(form) {
  var box = form.querySelector("[data-lines]") || form.querySelector("#lines");
  var add = form.querySelector("[data-add-line]");
  var totalBox = form.querySelector("[data-running-total]");
  var out = totalBox && totalBox.querySelector("output");
  var max = parseInt(box.dataset.linesMax || "100", 10);
  function lines() { return box.querySelectorAll("[data-line]"); }
  function refresh() {
    var sum = 0;
    lines().forEach(function (line) {
      var select = line.querySelector("[data-line-sku]");
      var option = select.options[select.selectedIndex];
      var price = option ? parseInt(option.dataset.price || "0", 10) : 0;
      var qty = parseInt(String(line.querySelector("[data-line-qty]").value).replace(/\D/g, "") || "0", 10);
      sum += price * qty;
    });
    var ship = form.querySelector("[name=shipping_cost]");
    var discount = form.querySelector("[name=discount]");
    sum += rupiah(ship && ship.value) - rupiah(discount && discount.value);
    if (out) out.textContent = formatRupiah(sum);
    var many = lines().length > 1;
    lines().forEach(function (line) { line.querySelector("[data-remove-line]").hidden = !many; });
    add.hidden = lines().length >= max;
  }
  add.addEventListener("click", function (event) {
    event.preventDefault();
    var all = lines();
    var copy = all[all.length - 1].cloneNode(true);
    copy.querySelector("[data-line-sku]").selectedIndex = 0;
    copy.querySelector("[data-line-qty]").value = "1";
    all[all.length - 1].after(copy);
    copy.querySelector("[data-line-sku]").focus();
    refresh();
  });
  box.addEventListener("click", function (event) {
    var button = event.target.closest("[data-remove-line]");
    if (!button || lines().length < 2) return;
    button.closest("[data-line]").remove();
    refresh();
  });
  form.addEventListener("input", refresh);
  form.addEventListener("change", refresh);
  if (totalBox) totalBox.hidden = false;
  refresh();
}
