/* Predict a CSV file in the browser, in chunks, through the JSON API (Content-Type: text/csv).
 * A chunk the API refuses (400) names its bad rows in the error details; those rows are set aside
 * with their messages and the rest of the chunk is sent again, so every good row is predicted.
 * The whole result is offered as a CSV download built in the page (Blob + object URL). */
(function () {
  "use strict";

  var CHUNK_ROWS = 100;
  var PREVIEW_ROWS = 10;
  var PREVIEW_INPUT_COLUMNS = 3;

  var form = document.getElementById("batch-form");
  var ui = window.ModelServiceUI;
  if (!form || !ui || !window.fetch || !window.Blob) {
    return;
  }
  form.hidden = false;
  document.getElementById("batch-needs-script").hidden = true;
  var layout = JSON.parse(form.dataset.layout || "{}");
  var fileInput = document.getElementById("batch-file");
  var button = document.getElementById("batch-button");
  var progress = document.getElementById("batch-progress");
  var progressBox = document.getElementById("batch-progress-box");
  var statusLine = document.getElementById("batch-status");
  var resultsBox = document.getElementById("batch-results");
  var download = document.getElementById("batch-download");
  var objectUrl = null;

  /* RFC 4180: quoted cells may hold commas, quotes ("") and line breaks; blank lines are skipped
   * like Python's csv.DictReader does, so row numbers match the API's. */
  function parseCsv(text) {
    var rows = [];
    var row = [];
    var cell = "";
    var quoted = false;
    text = text.replace(/^\uFEFF/, "");
    for (var i = 0; i < text.length; i++) {
      var c = text[i];
      if (quoted) {
        if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
        else if (c === '"') { quoted = false; }
        else { cell += c; }
      } else if (c === '"') {
        quoted = true;
      } else if (c === ",") {
        row.push(cell); cell = "";
      } else if (c === "\n" || c === "\r") {
        if (c === "\r" && text[i + 1] === "\n") { i++; }
        row.push(cell); cell = "";
        rows.push(row); row = [];
      } else {
        cell += c;
      }
    }
    if (cell !== "" || row.length) {
      row.push(cell);
      rows.push(row);
    }
    return rows.filter(function (cells) { return cells.length > 1 || cells[0] !== ""; });
  }

  function csvCell(value) {
    var text = value === null || value === undefined ? "" : String(value);
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  function toCsv(rows) {
    return rows.map(function (cells) { return cells.map(csvCell).join(","); }).join("\r\n") + "\r\n";
  }

  /* {"species": "setosa", "probabilities": {"setosa": 0.9}} -> {"species": ..., "probabilities.setosa": 0.9} */
  function flatten(value, prefix, into) {
    into = into || {};
    if (value && typeof value === "object" && !Array.isArray(value)) {
      Object.keys(value).forEach(function (key) {
        flatten(value[key], prefix ? prefix + "." + key : key, into);
      });
    } else {
      into[prefix || "prediction"] = Array.isArray(value) ? value.join(" ") : value;
    }
    return into;
  }

  function send(header, rows) {
    return fetch(form.dataset.apiUrl, {
      method: "POST",
      body: toCsv([header].concat(rows)),
      // Tells monitoring these predictions came from the CSV upload page.
      headers: { "Content-Type": "text/csv", "Accept": "application/json", "X-Entry-Point": "web_csv" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    });
  }

  function describe(path, message) {
    var where = path.slice(1).join(".");
    return (where ? where + ": " : "") + message;
  }

  /* Predict rows[i] for every i in `pending` (indexes into the file); set results/errors. */
  function predictChunk(header, rows, pending, outcome) {
    if (!pending.length) {
      return Promise.resolve();
    }
    return send(header, pending.map(function (index) { return rows[index]; })).then(function (answer) {
      if (answer.ok && Array.isArray(answer.data)) {
        pending.forEach(function (index, position) { outcome.results[index] = answer.data[position]; });
        return null;
      }
      var error = (answer.data && answer.data.error) || {};
      var bad = {};
      (error.details || []).forEach(function (detail) {
        var path = detail.path || [];
        if (answer.status === 400 && typeof path[0] === "number" && path[0] < pending.length) {
          var index = pending[path[0]];
          bad[index] = (bad[index] ? bad[index] + "; " : "") + describe(path, detail.message);
        }
      });
      if (!Object.keys(bad).length) {
        throw new Error(error.message || "The service answered " + answer.status + ".");
      }
      Object.keys(bad).forEach(function (index) { outcome.errors[index] = bad[index]; });
      return predictChunk(header, rows, pending.filter(function (index) { return !(index in bad); }), outcome);
    });
  }

  function resultTable(header, rows, outcome) {
    var keys = [];
    outcome.results.forEach(function (result) {
      Object.keys(flatten(result)).forEach(function (key) {
        if (keys.indexOf(key) < 0) { keys.push(key); }
      });
    });
    var table = [header.concat(keys, ["error"])];
    rows.forEach(function (cells, index) {
      var flat = outcome.results[index] ? flatten(outcome.results[index]) : {};
      table.push(cells.concat(keys.map(function (key) { return flat[key]; }), [outcome.errors[index] || ""]));
    });
    return table;
  }

  function showPreview(header, rows, outcome) {
    var shown = header.slice(0, PREVIEW_INPUT_COLUMNS);
    var more = header.length > shown.length;
    var head = document.querySelector("#batch-preview thead");
    var body = document.querySelector("#batch-preview tbody");
    head.textContent = "";
    body.textContent = "";
    var titles = ["Row", layout.headline_title || "Prediction"].concat(shown, more ? ["…"] : []);
    var headRow = document.createElement("tr");
    titles.forEach(function (title) {
      var cell = ui.element("th", "", title);
      cell.scope = "col";
      headRow.appendChild(cell);
    });
    head.appendChild(headRow);
    rows.slice(0, PREVIEW_ROWS).forEach(function (cells, index) {
      var row = document.createElement("tr");
      var result = outcome.results[index];
      var headline = result && layout.headline_field ? result[layout.headline_field] : result;
      row.appendChild(ui.element("td", "", String(index + 1)));
      row.appendChild(ui.element("td", result ? "fw-semibold" : "text-danger",
        result ? ui.asText(headline) + (layout.unit ? " " + layout.unit : "") : "error: " + outcome.errors[index]));
      cells.slice(0, shown.length).concat(more ? ["…"] : []).forEach(function (value) {
        row.appendChild(ui.element("td", "text-truncate", value));
      });
      body.appendChild(row);
    });
  }

  function showErrors(outcome) {
    var list = document.getElementById("batch-errors");
    list.textContent = "";
    var indexes = Object.keys(outcome.errors).map(Number).sort(function (a, b) { return a - b; });
    indexes.forEach(function (index) {
      list.appendChild(ui.element("li", "", "Row " + (index + 1) + ": " + outcome.errors[index]));
    });
    document.getElementById("batch-errors-box").hidden = !indexes.length;
    return indexes.length;
  }

  function offerDownload(table, fileName) {
    if (objectUrl) {
      URL.revokeObjectURL(objectUrl);
    }
    objectUrl = URL.createObjectURL(new Blob([toCsv(table)], { type: "text/csv" }));
    download.href = objectUrl;
    download.download = fileName.replace(/\.csv$/i, "") + "-predictions.csv";
  }

  function run(file, text) {
    var parsed = parseCsv(text);
    if (parsed.length < 2) {
      throw new Error("The file needs a header row and at least one data row.");
    }
    var header = parsed[0].map(function (name) { return name.trim(); });
    var rows = parsed.slice(1);
    var outcome = { results: new Array(rows.length), errors: {} };
    var done = 0;
    var chain = Promise.resolve();
    for (var start = 0; start < rows.length; start += CHUNK_ROWS) {
      (function (begin) {
        chain = chain.then(function () {
          var pending = [];
          for (var i = begin; i < Math.min(begin + CHUNK_ROWS, rows.length); i++) { pending.push(i); }
          return predictChunk(header, rows, pending, outcome).then(function () {
            done += pending.length;
            progress.value = Math.round(done / rows.length * 100);
            statusLine.textContent = "Predicted " + done + " of " + rows.length + " rows…";
          });
        });
      })(start);
    }
    return chain.then(function () {
      var failed = showErrors(outcome);
      showPreview(header, rows, outcome);
      offerDownload(resultTable(header, rows, outcome), file.name);
      var summary = (rows.length - failed) + " of " + rows.length + " rows predicted" +
        (failed ? ", " + failed + " with errors (listed below)." : ".");
      statusLine.textContent = "Done: " + summary;
      document.getElementById("batch-summary").textContent = download.download;
      resultsBox.hidden = false;
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var file = fileInput.files && fileInput.files[0];
    if (!file) {
      statusLine.textContent = "Choose a CSV file first.";
      fileInput.focus();
      return;
    }
    button.disabled = true;
    resultsBox.hidden = true;
    progressBox.hidden = false;
    progress.value = 0;
    statusLine.textContent = "Reading " + file.name + "…";
    file.text().then(function (text) { return run(file, text); }).catch(function (error) {
      statusLine.textContent = "Stopped: " + error.message;
    }).then(function () {
      button.disabled = false;
    });
  });
})();
