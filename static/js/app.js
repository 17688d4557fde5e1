// Small progressive enhancements; every page works without them.
"use strict";

// After a refused save, put the cursor in the first field that needs attention.
document.addEventListener("DOMContentLoaded", () => {
  const problem = document.querySelector("input.is-invalid, select.is-invalid, textarea.is-invalid, ul.is-invalid input");
  if (problem) {
    problem.focus();
  }
});

document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
