// Behaviour the templates ask for with data- attributes. The Content-Security-Policy
// (sdr/security_headers.py) runs no inline script and no inline event handler, so
// `onsubmit="return confirm(...)"` and `onchange="this.form.submit()"` live here.
//   <form data-confirm="Erase Dana?">   asks before submitting (or on the button pressed)
//   <select data-autosubmit>            submits its form when changed
//   <input type=checkbox data-select-all="lead">  ticks every name=lead box of its form
(function () {
  document.addEventListener(
    "submit",
    function (event) {
      const form = event.target;
      const button = event.submitter;
      const question =
        button && button.dataset.confirm !== undefined ? button.dataset.confirm : form.dataset.confirm;
      if (form instanceof HTMLFormElement && question !== undefined) {
        if (!window.confirm(question)) {
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
    if (field instanceof HTMLInputElement && field.dataset.selectAll && field.form) {
      const name = field.dataset.selectAll;
      field.form.querySelectorAll('input[type="checkbox"][name="' + name + '"]').forEach(function (box) {
        box.checked = field.checked;
      });
    }
  });
})();
