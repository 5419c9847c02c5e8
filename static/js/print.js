/* "Print this ..." buttons: any element marked data-print opens the browser's print dialogue. */
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) { window.print(); }
});
