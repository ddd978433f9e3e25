/* The document upload widget (templates/documents/_upload.html).
 *
 * One job: send the chosen file with progress, then tell the page.
 * - data-mode="form" (local storage): a multipart POST to the form's action.
 * - data-mode="direct" (S3): hash the file (SHA-256 and MD5, which storage
 *   checks the body against), ask the portal for a presigned PUT, PUT the
 *   file straight to storage, then ask the portal to confirm (it verifies
 *   the stored object before the document exists).
 * No inline script anywhere (the CSP forbids it): forms are found by
 * event delegation, so widgets loaded later by htmx work too.
 */
(function () {
  "use strict";

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["x-csrftoken"] || "";
    } catch (error) {
      return "";
    }
  }

  function parts(form) {
    return {
      error: form.querySelector("[data-upload-error]"),
      status: form.querySelector("[data-upload-status]"),
      progress: form.querySelector("[data-upload-progress]"),
      chosen: form.querySelector("[data-upload-chosen]"),
      button: form.querySelector("button[type=submit]"),
      category: form.querySelector("[data-upload-category]"),
    };
  }

  function showError(form, message) {
    var p = parts(form);
    p.error.textContent = message;
    p.error.hidden = false;
    p.status.textContent = "";
    p.progress.hidden = true;
    p.button.disabled = false;
  }

  function setStatus(form, message, fraction) {
    var p = parts(form);
    p.status.textContent = message;
    if (fraction === null) {
      p.progress.hidden = true;
    } else {
      p.progress.hidden = false;
      p.progress.value = Math.round(fraction * 100);
    }
  }

  function chosenFile(form) {
    var inputs = form.querySelectorAll("[data-upload-file]");
    for (var i = 0; i < inputs.length; i++) {
      if (inputs[i].files && inputs[i].files.length) return inputs[i].files[0];
    }
    return null;
  }

  function category(form) {
    var p = parts(form);
    return p.category ? p.category.value : form.dataset.category || "other";
  }

  /* XMLHttpRequest rather than fetch: it reports upload progress. */
  function send(method, url, body, headers, onProgress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, url);
      Object.keys(headers).forEach(function (name) {
        xhr.setRequestHeader(name, headers[name]);
      });
      if (onProgress && xhr.upload) {
        xhr.upload.onprogress = function (event) {
          if (event.lengthComputable) onProgress(event.loaded / event.total);
        };
      }
      xhr.onload = function () {
        var json = null;
        try {
          json = JSON.parse(xhr.responseText);
        } catch (error) {
          json = null;
        }
        resolve({ status: xhr.status, json: json });
      };
      xhr.onerror = function () {
        reject(new Error("network"));
      };
      xhr.send(body);
    });
  }

  function portalHeaders() {
    return { "x-csrftoken": csrfToken(), accept: "application/json" };
  }

  function errorMessage(form, response) {
    var error = response.json && response.json.error;
    if (!error) return form.dataset.msgFailed;
    var fields = error.fields ? Object.keys(error.fields).map(function (k) { return error.fields[k]; }) : [];
    var extra = fields.filter(function (text) { return text !== error.message; });
    return [error.message].concat(extra).join(" ");
  }

  function done(form, result) {
    var p = parts(form);
    setStatus(form, form.dataset.msgDone, null);
    p.button.disabled = false;
    form.reset();
    p.chosen.hidden = true;
    if (form.dataset.after === "reload" && result && result.location) {
      window.location.assign(result.location);
    } else {
      document.body.dispatchEvent(new CustomEvent("documents-changed", { bubbles: true }));
    }
  }

  function uploadThroughPortal(form, file) {
    var data = new FormData();
    form.querySelectorAll("input[type=hidden], select, input[name=title]").forEach(function (input) {
      if (input.name && input.name !== "_csrf_token") data.append(input.name, input.value);
    });
    data.append("file", file, file.name);
    setStatus(form, form.dataset.msgUploading, 0);
    return send("POST", form.action, data, portalHeaders(), function (fraction) {
      setStatus(form, form.dataset.msgUploading, fraction);
    });
  }

  function uploadDirect(form, file) {
    setStatus(form, form.dataset.msgChecking, null);
    return file.arrayBuffer().then(function (buffer) {
      return crypto.subtle.digest("SHA-256", buffer).then(function (digest) {
        var request = {
          name: file.name,
          size: file.size,
          sha256: hex(new Uint8Array(digest)),
          md5: md5Hex(new Uint8Array(buffer)),
          content_type: file.type || "",
        };
        if (form.dataset.documentId) {
          request.document_id = form.dataset.documentId;
        } else {
          request.category = category(form);
          request.title = (form.querySelector("input[name=title]") || {}).value || "";
          request.attached_type = form.querySelector("input[name=attached_type]").value;
          request.attached_id = form.querySelector("input[name=attached_id]").value;
        }
        var headers = portalHeaders();
        headers["content-type"] = "application/json";
        return send("POST", form.dataset.presign, JSON.stringify(request), headers).then(function (presigned) {
          if (presigned.status !== 201) return presigned;
          var ticket = presigned.json;
          setStatus(form, form.dataset.msgUploading, 0);
          return send(ticket.method, ticket.url, file, ticket.headers, function (fraction) {
            setStatus(form, form.dataset.msgUploading, fraction);
          }).then(function (stored) {
            if (stored.status < 200 || stored.status >= 300) return { status: stored.status, json: null };
            setStatus(form, form.dataset.msgChecking, null);
            return send("POST", form.dataset.confirm, JSON.stringify({ ticket: ticket.ticket }), headers);
          });
        });
      });
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-upload")) return;
    event.preventDefault();
    var p = parts(form);
    p.error.hidden = true;
    var file = chosenFile(form);
    if (!file) {
      showError(form, form.dataset.msgNoFile);
      return;
    }
    var limits = JSON.parse(form.dataset.limits || "{}");
    var limit = limits[category(form)];
    if (limit && file.size > limit * 1024 * 1024) {
      showError(form, form.dataset.msgTooLarge.replace("%(limit)s", String(limit)));
      return;
    }
    p.button.disabled = true;
    var upload = form.dataset.mode === "direct" ? uploadDirect(form, file) : uploadThroughPortal(form, file);
    upload.then(
      function (response) {
        if (response.status === 201 && response.json) {
          done(form, response.json);
        } else {
          showError(form, errorMessage(form, response));
        }
      },
      function () {
        showError(form, form.dataset.msgNetwork);
      }
    );
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    var form = target.closest && target.closest("form[data-upload]");
    if (!form) return;
    if (target.hasAttribute("data-upload-category")) {
      var accept = JSON.parse(form.dataset.accept || "{}")[target.value];
      var input = form.querySelector("[data-upload-typed]");
      if (input && accept) input.setAttribute("accept", accept);
    }
    if (target.hasAttribute("data-upload-file") && target.files && target.files.length) {
      // Only one file per upload: the other input is cleared.
      form.querySelectorAll("[data-upload-file]").forEach(function (other) {
        if (other !== target) other.value = "";
      });
      var p = parts(form);
      p.chosen.textContent = target.files[0].name;
      p.chosen.hidden = false;
      p.error.hidden = true;
    }
  });

  function hex(bytes) {
    var out = "";
    for (var i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return out;
  }

  /* MD5 (RFC 1321) of a byte array: WebCrypto has none, and every S3
   * server checks a body against the signed Content-MD5. */
  var S = [7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
    4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21];
  var K = new Int32Array(64);
  for (var k = 0; k < 64; k++) K[k] = Math.floor(Math.abs(Math.sin(k + 1)) * 4294967296) | 0;

  function md5Block(view, offset, state, m) {
    for (var j = 0; j < 16; j++) m[j] = view.getInt32(offset + j * 4, true);
    var a = state[0], b = state[1], c = state[2], d = state[3];
    for (var i = 0; i < 64; i++) {
      var f, g;
      if (i < 16) { f = (b & c) | (~b & d); g = i; }
      else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) & 15; }
      else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) & 15; }
      else { f = c ^ (b | ~d); g = (7 * i) & 15; }
      var t = d;
      d = c;
      c = b;
      var x = (a + f + K[i] + m[g]) | 0;
      b = (b + ((x << S[i]) | (x >>> (32 - S[i])))) | 0;
      a = t;
    }
    state[0] = (state[0] + a) | 0; state[1] = (state[1] + b) | 0;
    state[2] = (state[2] + c) | 0; state[3] = (state[3] + d) | 0;
  }

  function md5Hex(bytes) {
    // Whole blocks straight from the file's buffer (no copy of a large
    // file); only the padded tail is a new array.
    var state = [0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476];
    var m = new Int32Array(16);
    var view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    var rest = bytes.length % 64;
    var whole = bytes.length - rest;
    for (var offset = 0; offset < whole; offset += 64) md5Block(view, offset, state, m);
    var tail = new Uint8Array(rest < 56 ? 64 : 128);
    tail.set(bytes.subarray(whole));
    tail[rest] = 0x80;
    var tailView = new DataView(tail.buffer);
    var bits = bytes.length * 8;
    tailView.setUint32(tail.length - 8, bits >>> 0, true);
    tailView.setUint32(tail.length - 4, Math.floor(bits / 4294967296), true);
    for (var o = 0; o < tail.length; o += 64) md5Block(tailView, o, state, m);
    var out = new Uint8Array(16);
    var outView = new DataView(out.buffer);
    for (var n = 0; n < 4; n++) outView.setInt32(n * 4, state[n], true);
    return hex(out);
  }

  // For tests: the same function the widget uses.
  window.portalUploadMd5 = md5Hex;
})();
