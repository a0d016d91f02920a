// Keyboard shortcuts for the review queue: a approve, e edit, r reject, n next.
(function () {
  const subject = document.getElementById("draft-subject");
  const body = document.getElementById("draft-body");
  const typing = (el) => el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA") && !el.readOnly;

  function startEditing() {
    if (!body) return;
    subject.readOnly = false;
    body.readOnly = false;
    body.focus();
  }
  const edit = document.getElementById("edit");
  if (edit) edit.addEventListener("click", startEditing);

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(document.activeElement)) return;
    if (event.key === "a") { event.preventDefault(); document.getElementById("approve")?.click(); }
    else if (event.key === "e") { event.preventDefault(); startEditing(); }
    else if (event.key === "r") { event.preventDefault(); document.getElementById("reject-reason")?.focus(); }
    else if (event.key === "n") { const next = document.getElementById("next"); if (next) window.location = next.href; }
  });
})();
