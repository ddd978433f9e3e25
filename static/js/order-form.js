// The order form's "Add a line" button: each new row needs the next index,
// which htmx sends as a query parameter.
document.addEventListener("htmx:configRequest", (event) => {
  const button = event.detail.elt;
  if (button.id !== "add-line") return;
  event.detail.parameters.index = button.dataset.nextIndex;
  button.dataset.nextIndex = String(Number(button.dataset.nextIndex) + 1);
});
