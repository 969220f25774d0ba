// Small behaviours that used to be inline handlers; the Content-Security-Policy allows no inline script.
// <select data-autosubmit> submits its form when changed.
document.addEventListener("change", function (event) {
  var el = event.target;
  if (el && el.matches && el.matches("[data-autosubmit]") && el.form) {
    el.form.submit();
  }
});
