// Behaviour the templates ask for with data- attributes. The Content-Security-Policy
// (sdr/security_headers.py) runs no inline script and no inline event handler, so
// `onsubmit="return confirm(...)"` and `onchange="this.form.submit()"` live here.
//   <form data-confirm="Erase Dana?">   asks before submitting (or on the button pressed)
//   <select data-autosubmit>            submits its form when changed
//   <input type=checkbox data-select-all="lead">  ticks every name=lead box of its form
//   <table data-keys>                   a list worked from the keyboard (below)
//   <form data-upload-progress>         sends its file with a progress bar (below)
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

  // A large file takes a while to send on a slow link: the form sends it itself and shows
  // how far it got, then goes where the server says (or shows why it refused the file).
  // Without script the form posts as usual.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-upload-progress")) return;
    if (event.defaultPrevented) return;
    const bar = form.querySelector("progress[data-upload]");
    const status = form.querySelector("[data-upload-status]");
    const problem = form.querySelector("[data-upload-error]");
    const button = form.querySelector('button[type="submit"]');
    const input = form.querySelector('input[type="file"]');
    const file = input && input.files && input.files[0];
    const limit = Number(form.dataset.maxBytes || 0);
    event.preventDefault();
    function fail(message) {
      problem.textContent = message;
      problem.hidden = false;
      bar.hidden = true;
      status.textContent = "";
      button.disabled = false;
    }
    problem.hidden = true;
    if (file && limit && file.size > limit) {
      fail("The file is larger than " + Math.round(limit / 1048576) + " MB. Split it and upload the parts.");
      return;
    }
    const request = new XMLHttpRequest();
    request.open("POST", form.action || window.location.href);
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", function (progress) {
      if (!progress.lengthComputable) return;
      bar.max = progress.total;
      bar.value = progress.loaded;
      const percent = Math.floor((100 * progress.loaded) / progress.total);
      status.textContent = percent < 100 ? "Uploading: " + percent + "%" : "Uploaded. Checking the file…";
    });
    request.addEventListener("load", function () {
      let answer = null;
      try {
        answer = JSON.parse(request.responseText);
      } catch (error) {
        answer = null;
      }
      if (answer && answer.location) window.location.assign(answer.location);
      else if (answer && answer.error) fail(answer.error);
      else if (request.status === 413) fail("The file is larger than the server accepts. Split it and upload the parts.");
      else fail("The upload failed (HTTP " + request.status + "). Reload the page and try again.");
    });
    request.addEventListener("error", function () {
      fail("The upload was interrupted. Check your connection and try again.");
    });
    bar.removeAttribute("value");
    bar.hidden = false;
    status.textContent = "Uploading…";
    button.disabled = true;
    request.send(new FormData(form));
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
