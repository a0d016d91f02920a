// Keyboard shortcuts for the review queue: a approve, e edit, r reject, n next, u undo.
// Approving releases real email, so no key approves a held draft on its own (it opens a
// confirmation), and no key acts while the reviewer is typing.
(function () {
  const subject = document.getElementById("draft-subject");
  const body = document.getElementById("draft-body");
  const save = document.getElementById("save-edit");
  const held = document.getElementById("held-confirm");
  const typing = (el) => el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA") && !el.readOnly;

  function startEditing() {
    if (!body) return;
    subject.readOnly = false;
    body.readOnly = false;
    if (save) save.disabled = false;
    body.focus();
  }
  const edit = document.getElementById("edit");
  if (edit) edit.addEventListener("click", startEditing);

  function askToConfirm() {
    held.hidden = false;
    document.getElementById("confirm-approve").focus();
  }
  if (held) {
    document.getElementById("approve").addEventListener("click", askToConfirm);
    document.getElementById("cancel-approve").addEventListener("click", () => {
      held.hidden = true;
      document.getElementById("approve").focus();
    });
  }

  // The undo offers count down and go once their window has closed: after that the
  // server would refuse anyway.
  document.querySelectorAll("form.undo[data-seconds]").forEach((form) => {
    let left = parseInt(form.dataset.seconds, 10);
    const shown = form.querySelector(".countdown");
    const tick = setInterval(() => {
      left -= 1;
      if (shown) shown.textContent = String(Math.max(left, 0));
      if (left <= 0) {
        clearInterval(tick);
        form.remove();
      }
    }, 1000);
  });

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(document.activeElement)) return;
    if (event.key === "a") { event.preventDefault(); document.getElementById("approve")?.click(); }
    else if (event.key === "e") { event.preventDefault(); startEditing(); }
    else if (event.key === "r") { event.preventDefault(); document.getElementById("reject-reason")?.focus(); }
    else if (event.key === "n") { const next = document.getElementById("next"); if (next) window.location = next.href; }
    else if (event.key === "u") { event.preventDefault(); document.getElementById("undo")?.click(); }
  });
})();
