// Behaviour the templates ask for with data- attributes. The Content-Security-Policy
// (sdr/security_headers.py) runs no inline script and no inline event handler, so
// `onsubmit="return confirm(...)"` and `onchange="this.form.submit()"` live here.
//   <form data-confirm="Erase Dana?">   asks before submitting (or on the button pressed)
//   <select data-autosubmit>            submits its form when changed
//   <input type=checkbox data-select-all="lead">  ticks every name=lead box of its form
//   <table data-keys>                   a list worked from the keyboard (below)
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

  // Lists, keyboard first: j and k move through the rows, x ticks the row, o or Enter
  // opens it, / goes to the search box, ] and [ turn the page. Rows are looked up at each
  // key, not kept: htmx replaces the table when a filter changes.
  let current = -1;
  function rows() {
    const table = document.querySelector("table[data-keys]");
    return table ? Array.from(table.querySelectorAll("tbody tr")).filter((row) => row.querySelector("a")) : [];
  }
  function mark(list, index) {
    list.forEach((row, i) => row.classList.toggle("current", i === index));
    if (list[index]) list[index].scrollIntoView({ block: "nearest" });
    current = index;
  }
  function follow(selector) {
    const link = document.querySelector(selector);
    if (link) window.location.href = link.href;
  }
  document.addEventListener("keydown", function (event) {
    const target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (target instanceof HTMLElement && target.closest("input, select, textarea, [contenteditable]")) return;
    const list = rows();
    if (!list.length) return;
    if (current >= list.length || (current >= 0 && !list[current].classList.contains("current"))) current = -1;
    if (event.key === "j") mark(list, Math.min(current + 1, list.length - 1));
    else if (event.key === "k") mark(list, Math.max(current - 1, 0));
    else if (event.key === "x" && current >= 0) {
      const box = list[current].querySelector('input[type="checkbox"]');
      if (box) box.checked = !box.checked;
    } else if ((event.key === "o" || event.key === "Enter") && current >= 0) {
      if (event.key === "Enter" && target instanceof HTMLAnchorElement) return;
      follow("table[data-keys] tbody tr.current a");
    } else if (event.key === "/") {
      const search = document.querySelector('input[type="search"]');
      if (search) search.focus();
    } else if (event.key === "]") follow('a[rel="next"]');
    else if (event.key === "[") follow('a[rel="prev"]');
    else return;
    event.preventDefault();
  });
})();
