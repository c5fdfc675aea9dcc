/* Customer portal: a drop zone and a file list for the attachments field.
 *
 * Progressive: without this script the plain <input type="file" multiple> still works. With it,
 * files can be dropped onto the field, and the chosen files are listed (with a remove button)
 * in a polite live region. No dependencies.
 */
(function () {
  "use strict";

  function formatSize(bytes) {
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1048576) return (bytes / 1024).toFixed(1) + " KiB";
    return (bytes / 1048576).toFixed(1) + " MiB";
  }

  function canAssignFiles() {
    try {
      return typeof DataTransfer === "function" && !!new DataTransfer().items;
    } catch (e) {
      return false;
    }
  }

  function enhance(field) {
    var input = field.querySelector('input[type="file"]');
    if (!input || !canAssignFiles()) return;
    var hint = field.querySelector(".esc-hint[id]");
    if (hint) hint.textContent = "Choose files, or drag and drop them onto this box.";
    field.classList.add("esc-dropzone");

    var list = document.createElement("ul");
    list.className = "esc-file-list";
    list.setAttribute("aria-live", "polite");
    list.setAttribute("aria-label", "Files to send");
    field.appendChild(list);

    function setFiles(files) {
      var transfer = new DataTransfer();
      files.forEach(function (f) { transfer.items.add(f); });
      input.files = transfer.files;
      render();
    }

    function render() {
      list.textContent = "";
      Array.prototype.forEach.call(input.files, function (file, index) {
        var item = document.createElement("li");
        var name = document.createElement("span");
        name.textContent = file.name + " (" + formatSize(file.size) + ")";
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "esc-link-button";
        remove.textContent = "Remove";
        remove.setAttribute("aria-label", "Remove " + file.name);
        remove.addEventListener("click", function () {
          var kept = Array.prototype.filter.call(input.files, function (_, i) { return i !== index; });
          setFiles(kept);
          input.focus();
        });
        item.appendChild(name);
        item.appendChild(document.createTextNode(" "));
        item.appendChild(remove);
        list.appendChild(item);
      });
    }

    input.addEventListener("change", render);
    ["dragenter", "dragover"].forEach(function (type) {
      field.addEventListener(type, function (event) {
        event.preventDefault();
        field.classList.add("esc-dragging");
      });
    });
    ["dragleave", "dragend"].forEach(function (type) {
      field.addEventListener(type, function (event) {
        if (!field.contains(event.relatedTarget)) field.classList.remove("esc-dragging");
      });
    });
    field.addEventListener("drop", function (event) {
      event.preventDefault();
      field.classList.remove("esc-dragging");
      if (!event.dataTransfer || !event.dataTransfer.files.length) return;
      var files = Array.prototype.slice.call(input.files);
      Array.prototype.forEach.call(event.dataTransfer.files, function (f) { files.push(f); });
      setFiles(files);
    });
    render();
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-esc-dropzone]"), enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
