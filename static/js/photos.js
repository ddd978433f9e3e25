/* Photos of a progress report, taken with the camera or picked from the
 * gallery, made small on the phone before they are queued: the long edge
 * at most 1600 px (labels and defects stay readable) as JPEG, so a
 * 12-megapixel photo becomes a few hundred KB on a weak network. Drawing
 * through a canvas also drops EXIF (location) and applies the rotation.
 * The capture time is the file's time (set by the camera when taken).
 *
 * The picked photos live on the form element (form.portalPhotos) for
 * outbox.js to queue with the report.
 */
(function () {
  "use strict";

  var LONG_EDGE = 1600;
  var TARGET_BYTES = 450 * 1024;
  var QUALITIES = [0.82, 0.7, 0.58];

  function canvasFor(width, height) {
    if (typeof OffscreenCanvas !== "undefined") return new OffscreenCanvas(width, height);
    var canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    return canvas;
  }

  function toBlob(canvas, quality) {
    if (canvas.convertToBlob) return canvas.convertToBlob({ type: "image/jpeg", quality: quality });
    return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", quality); });
  }

  function shrink(file) {
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var scale = Math.min(1, LONG_EDGE / Math.max(bitmap.width, bitmap.height));
      var width = Math.max(1, Math.round(bitmap.width * scale));
      var height = Math.max(1, Math.round(bitmap.height * scale));
      var canvas = canvasFor(width, height);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, width, height);
      bitmap.close();
      function attempt(i) {
        return toBlob(canvas, QUALITIES[i]).then(function (blob) {
          if (blob.size <= TARGET_BYTES || i === QUALITIES.length - 1) return blob;
          return attempt(i + 1);
        });
      }
      return attempt(0);
    });
  }

  function baseName(name) {
    var stem = (name || "photo").replace(/\.[^.]*$/, "").replace(/[^\w-]+/g, "-").slice(0, 60) || "photo";
    return stem + ".jpg";
  }

  function render(picker, form) {
    var list = picker.querySelector("[data-photo-list]");
    list.textContent = "";
    form.portalPhotos.forEach(function (photo, index) {
      var li = document.createElement("li");
      var img = document.createElement("img");
      img.src = photo.url;
      img.alt = "";
      img.width = 88;
      img.height = 88;
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "button photo-remove";
      remove.setAttribute("aria-label", picker.dataset.msgRemove);
      remove.textContent = "×";
      remove.addEventListener("click", function () {
        URL.revokeObjectURL(photo.url);
        form.portalPhotos.splice(index, 1);
        render(picker, form);
      });
      li.appendChild(img);
      li.appendChild(remove);
      list.appendChild(li);
    });
  }

  function showError(picker, message) {
    var node = picker.querySelector("[data-error-for=photos]");
    node.textContent = message || "";
    node.hidden = !message;
  }

  function add(picker, form, files) {
    var max = parseInt(picker.dataset.max, 10) || 10;
    showError(picker, "");
    var chosen = Array.prototype.slice.call(files);
    if (form.portalPhotos.length + chosen.length > max) {
      showError(picker, picker.dataset.msgTooMany);
      chosen = chosen.slice(0, Math.max(0, max - form.portalPhotos.length));
    }
    return chosen.reduce(function (previous, file) {
      return previous.then(function () {
        return shrink(file).then(function (blob) {
          form.portalPhotos.push({
            blob: blob,
            name: baseName(file.name),
            captured_at: new Date(file.lastModified || Date.now()).toISOString(),
            url: URL.createObjectURL(blob),
          });
          render(picker, form);
        }, function () {
          showError(picker, picker.dataset.msgUnreadable);
        });
      });
    }, Promise.resolve());
  }

  function start() {
    document.querySelectorAll("[data-photo-picker]:not([data-ready])").forEach(function (picker) {
      var form = picker.closest("form");
      picker.dataset.ready = "1";
      form.portalPhotos = [];
      picker.hidden = !("createImageBitmap" in window);
      picker.querySelectorAll("[data-photo-input]").forEach(function (input) {
        input.addEventListener("change", function () {
          add(picker, form, input.files).then(function () { input.value = ""; });
        });
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
  // Pages reached through htmx (the boosted navigation) bring their pickers.
  document.addEventListener("htmx:afterSettle", start);
})();
