/* The predict form without page reloads: the form's own fields go to the JSON API as
 * application/x-www-form-urlencoded (the API converts them by the input schema, exactly as the
 * no-script POST does), the result and any explanation are drawn in place, and a 400's details
 * are shown under the fields they name. Without this script the form still works (plain POST). */
(function () {
  "use strict";

  var form = document.getElementById("predict-form");
  var ui = window.ModelServiceUI;
  if (!form || !ui || !window.fetch) {
    return;
  }
  var layout = JSON.parse(form.dataset.layout || "{}");
  var example = JSON.parse(form.dataset.example || "{}");
  var resultBox = document.getElementById("result");
  var resultPanel = document.getElementById("result-panel");
  var formErrors = document.getElementById("form-errors");
  var button = document.getElementById("predict-button");

  function fieldBox(name) {
    return form.querySelector('[data-field="' + CSS.escape(name) + '"]');
  }

  function inputsOf(box) {
    return Array.prototype.slice.call(box.querySelectorAll("input:not([type=hidden]), select, textarea"));
  }

  function clearErrors() {
    form.querySelectorAll("[data-error-for]").forEach(function (box) {
      box.textContent = "";
      box.hidden = true;
    });
    form.querySelectorAll(".is-invalid").forEach(function (input) { input.classList.remove("is-invalid"); });
    form.querySelectorAll("[aria-invalid]").forEach(function (input) { input.removeAttribute("aria-invalid"); });
    form.querySelectorAll(".number-grid.has-error").forEach(function (grid) { grid.classList.remove("has-error"); });
    formErrors.hidden = true;
  }

  function describedBy(input, errorId, add) {
    var ids = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
      return id && id !== errorId;
    });
    if (add) {
      ids.push(errorId);
    }
    input.setAttribute("aria-describedby", ids.join(" "));
  }

  /* Same wording as views/pages.py errors_by_field: "item 4: ..." for a position in a list. */
  function fieldMessage(path, message) {
    return path.slice(1).map(function (part) {
      return typeof part === "number" ? "item " + (part + 1) + ": " : part + ": ";
    }).join("") + message;
  }

  function showFormErrors(messages, haveFieldErrors) {
    formErrors.querySelectorAll(".general").forEach(function (node) { node.remove(); });
    formErrors.querySelector("p.small").textContent = haveFieldErrors ? "Fix the fields marked below." : "";
    messages.forEach(function (message) {
      formErrors.appendChild(ui.element("div", "small general", message));
    });
    formErrors.hidden = false;
  }

  function showErrors(error) {
    var general = [];
    var firstInvalid = null;
    (error.details || []).forEach(function (detail) {
      var path = detail.path || [];
      var box = path.length ? fieldBox(String(path[0])) : null;
      if (!box) {
        general.push((path.length ? path.join(".") + ": " : "") + detail.message);
        return;
      }
      var errorBox = box.querySelector("[data-error-for]");
      errorBox.appendChild(ui.element("div", "", fieldMessage(path, detail.message)));
      errorBox.hidden = false;
      var inputs = inputsOf(box);
      var grid = box.querySelector(".number-grid");
      if (grid) {
        grid.classList.add("has-error");
        if (typeof path[1] === "number" && inputs[path[1]]) {
          inputs[path[1]].classList.add("is-invalid");
          inputs[path[1]].setAttribute("aria-invalid", "true");
        }
        describedBy(box, errorBox.id, true);
      }
      inputs.forEach(function (input) {
        if (!grid) {
          input.classList.add("is-invalid");
          input.setAttribute("aria-invalid", "true");
          describedBy(input, errorBox.id, true);
        }
      });
      firstInvalid = firstInvalid || box.querySelector(".is-invalid") || inputs[0];
    });
    if (!error.details || !error.details.length) {
      general.push(error.message || "The service could not predict this input.");
    }
    showFormErrors(general, firstInvalid !== null);
    resultBox.textContent = "";
    resultBox.appendChild(ui.element("p", "placeholder-text text-body-secondary mb-0",
      "No prediction yet: the input needs fixing first."));
    if (firstInvalid) {
      firstInvalid.focus();
    }
  }

  function renderResult(result) {
    resultBox.textContent = "";
    var headline = layout.headline_field ? result[layout.headline_field] : result;
    var box = ui.element("div", "prediction-headline");
    box.id = "prediction";
    var title = ui.element("div", "small text-body-secondary", layout.headline_title || "Prediction");
    title.id = "prediction-title";
    var output = ui.element("output", "prediction-value", ui.asText(headline));
    output.id = "prediction-value";
    output.setAttribute("aria-labelledby", "prediction-title");
    output.dataset.value = JSON.stringify(headline);
    if (layout.unit) {
      output.appendChild(document.createTextNode(" "));
      output.appendChild(ui.element("span", "prediction-unit", layout.unit));
    }
    box.appendChild(title);
    box.appendChild(output);
    resultBox.appendChild(box);
    var shares = layout.probabilities_field ? result[layout.probabilities_field] : null;
    if (shares && typeof shares === "object") {
      resultBox.appendChild(ui.element("h3", "h6 mt-3", "How sure the model is"));
      resultBox.appendChild(ui.barChart(ui.shareBars(shares, headline), "Probability of each class", false, "probabilities"));
    }
    var details = Object.keys(result).filter(function (key) {
      return key !== layout.headline_field && key !== layout.probabilities_field;
    });
    if (details.length) {
      var list = ui.element("dl", "result-details small mt-3 mb-0");
      details.forEach(function (key) {
        var row = ui.element("div");
        row.appendChild(ui.element("dt", "", ui.humanize(key)));
        row.appendChild(ui.element("dd", "text-break", ui.asText(result[key])));
        list.appendChild(row);
      });
      resultBox.appendChild(list);
    }
  }

  function renderExplanation(explanation) {
    var bars = ui.contributionBars(explanation.contributions || []);
    if (!bars.length) {
      return;
    }
    var box = ui.element("div", "explanation mt-4");
    box.id = "explanation";
    box.appendChild(ui.element("h3", "h6", "Why this prediction"));
    var value = typeof explanation.explained_value === "number" ? " (" + ui.formatNumber(explanation.explained_value) + ")" : "";
    var sentence = (form.dataset.explainSentence || "")
      .replace("{target}", explanation.target || "the prediction")
      .replace("{value}", value);
    var paragraph = ui.element("p", "small text-body-secondary", sentence);
    paragraph.id = "explanation-sentence";
    box.appendChild(paragraph);
    box.appendChild(ui.barChart(bars, "Contribution of each input", true, "contributions"));
    if (explanation.method) {
      box.appendChild(ui.element("p", "small text-body-secondary mt-2 mb-0", "Method: " + explanation.method));
    }
    resultBox.appendChild(box);
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      body: body,
      // Tells monitoring the prediction came from the web form (captures record their entry point).
      headers: { "Accept": "application/json", "X-Entry-Point": "web_form" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    });
  }

  function explain(body) {
    var url = form.dataset.explainUrl;
    if (!url) {
      return Promise.resolve();
    }
    return post(url, body).then(function (answer) {
      if (answer.ok) {
        renderExplanation(answer.data);
      }
    }).catch(function () { /* the prediction stands without its explanation */ });
  }

  function revealResult() {
    var top = resultPanel.getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight - 80) {
      resultPanel.scrollIntoView({ block: "start" });
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors();
    var body = new URLSearchParams(new FormData(form));
    button.disabled = true;
    resultPanel.classList.add("busy");
    resultPanel.setAttribute("aria-busy", "true");
    post(form.dataset.apiUrl, body).then(function (answer) {
      if (answer.ok) {
        renderResult(answer.data);
        revealResult();
        return explain(body);
      }
      showErrors((answer.data && answer.data.error) || { message: "The service answered " + answer.status + "." });
    }).catch(function () {
      showErrors({ message: "The service cannot be reached. Check your connection and try again." });
    }).then(function () {
      button.disabled = false;
      resultPanel.classList.remove("busy");
      resultPanel.removeAttribute("aria-busy");
    });
  });

  function fillField(box, value) {
    var inputs = inputsOf(box);
    var widget = box.dataset.widget;
    if (widget === "checkbox") {
      inputs[0].checked = value === true;
    } else if (widget === "number_grid") {
      inputs.forEach(function (input, index) {
        input.value = Array.isArray(value) && index < value.length ? String(value[index]) : "";
      });
    } else if (Array.isArray(value)) {
      inputs[0].value = value.join(", ");
    } else {
      inputs[0].value = value === null || value === undefined ? "" : String(value);
    }
  }

  /* Shade each cell of a number grid by its value, so an 8x8 image of pixels looks like one. */
  function shade(cell) {
    var high = parseFloat(cell.getAttribute("max"));
    var low = parseFloat(cell.getAttribute("min")) || 0;
    var value = parseFloat(cell.value);
    for (var level = 0; level <= 5; level++) {
      cell.classList.remove("level-" + level);
    }
    if (isFinite(high) && high > low && isFinite(value)) {
      var ratio = Math.min(1, Math.max(0, (value - low) / (high - low)));
      cell.classList.add("level-" + Math.round(ratio * 5));
    }
  }

  function shadeAll() {
    form.querySelectorAll(".grid-cell").forEach(shade);
  }

  form.addEventListener("input", function (event) {
    if (event.target.classList.contains("grid-cell")) {
      shade(event.target);
    }
  });
  shadeAll();

  var exampleButton = document.getElementById("fill-example");
  if (exampleButton) {
    exampleButton.addEventListener("click", function (event) {
      event.preventDefault();
      clearErrors();
      form.querySelectorAll("[data-field]").forEach(function (box) {
        if (Object.prototype.hasOwnProperty.call(example, box.dataset.field)) {
          fillField(box, example[box.dataset.field]);
        }
      });
      shadeAll();
      var first = form.querySelector("input:not([type=hidden]), select, textarea");
      if (first) {
        first.focus();
      }
    });
  }
})();
