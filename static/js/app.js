// Behaviour the templates ask for with data- attributes. The Content-Security-Policy
// (sdr/security_headers.py) runs no inline script and no inline event handler, so
// `onsubmit="return confirm(...)"` and `onchange="this.form.submit()"` live here.
//   <form data-confirm="Erase Dana?">   asks before submitting
//   <select data-autosubmit>            submits its form when changed
(function () {
  document.addEventListener(
    "submit",
    function (event) {
      const form = event.target;
      if (form instanceof HTMLFormElement && form.dataset.confirm !== undefined) {
        if (!window.confirm(form.dataset.confirm)) {
          event.preventDefault();
          event.stopImmediatePropagation();
        }
      }
    },
    true
  );
  document.addEventListener("change", function (event) {
    const field = event.target;
    if (field instanceof Element && field.hasAttribute("data-autosubmit") && field.form) {
      field.form.requestSubmit();
    }
  });
})();
