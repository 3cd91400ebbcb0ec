/* Shared helpers of the web UI's scripts: number formatting and the bar charts.
 * They draw the same markup as templates/views/_charts.html (SVG rectangles sized by attributes,
 * so the strict Content-Security-Policy needs no inline style). */
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";

  function formatNumber(value) {
    if (typeof value !== "number" || !isFinite(value)) {
      return String(value);
    }
    if (Number.isInteger(value)) {
      return value.toLocaleString("en-US");
    }
    if (Math.abs(value) >= 1000) {
      return value.toLocaleString("en-US", { maximumFractionDigits: 0 });
    }
    return String(Number(value.toPrecision(4)));
  }

  function formatPercent(value) {
    return (value * 100).toFixed(1) + " %";
  }

  function asText(value) {
    if (value === null || value === undefined) {
      return "";
    }
    if (typeof value === "boolean") {
      return value ? "yes" : "no";
    }
    if (Array.isArray(value)) {
      return value.map(asText).join(", ");
    }
    if (typeof value === "object") {
      return Object.keys(value).map(function (key) { return key + ": " + asText(value[key]); }).join(", ");
    }
    return typeof value === "number" ? formatNumber(value) : String(value);
  }

  function humanize(name) {
    var words = String(name).replace(/[_-]/g, " ").trim();
    return words ? words.charAt(0).toUpperCase() + words.slice(1) : String(name);
  }

  /* Probabilities as bars, largest first; the predicted class in the accent colour. */
  function shareBars(shares, highlight) {
    return Object.keys(shares)
      .filter(function (label) { return typeof shares[label] === "number"; })
      .map(function (label) { return [label, shares[label]]; })
      .sort(function (a, b) { return b[1] - a[1]; })
      .map(function (pair) {
        return {
          label: pair[0], text: formatPercent(pair[1]), x: 0,
          width: Math.round(Math.max(0, pair[1]) * 10000) / 100,
          tone: pair[0] === String(highlight) ? "accent" : "neutral"
        };
      });
  }

  /* Contributions as diverging bars around the centre, largest effect first. */
  function contributionBars(contributions) {
    var rows = contributions.filter(function (item) { return typeof item.contribution === "number"; });
    rows.sort(function (a, b) { return Math.abs(b.contribution) - Math.abs(a.contribution); });
    var largest = rows.reduce(function (most, item) { return Math.max(most, Math.abs(item.contribution)); }, 0) || 1;
    return rows.map(function (item) {
      var value = item.contribution;
      var half = Math.round(Math.abs(value) / largest * 5000) / 100;
      return {
        label: String(item.field), text: (value > 0 ? "+" : "") + formatNumber(value),
        x: value >= 0 ? 50 : Math.round((50 - half) * 100) / 100, width: half,
        tone: value > 0 ? "positive" : value < 0 ? "negative" : "neutral"
      };
    });
  }

  function svgElement(name, attributes) {
    var element = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (key) { element.setAttribute(key, attributes[key]); });
    return element;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function barChart(bars, label, diverging, id) {
    var list = element("ul", "bar-chart list-unstyled mb-0" + (diverging ? " diverging" : ""));
    list.setAttribute("aria-label", label);
    if (id) {
      list.id = id;
    }
    bars.forEach(function (bar) {
      var row = element("li", "bar-row tone-" + bar.tone);
      row.appendChild(element("span", "bar-label text-break", bar.label));
      var svg = svgElement("svg", { "class": "bar-track", width: "100%", height: "14", "aria-hidden": "true", focusable: "false" });
      svg.appendChild(svgElement("rect", { "class": "bar-bg", x: "0", y: "0", width: "100%", height: "14", rx: "3" }));
      svg.appendChild(svgElement("rect", { "class": "bar-fill", x: bar.x + "%", y: "0", width: bar.width + "%", height: "14", rx: "3" }));
      if (diverging) {
        svg.appendChild(svgElement("line", { "class": "bar-axis", x1: "50%", x2: "50%", y1: "0", y2: "14" }));
      }
      row.appendChild(svg);
      row.appendChild(element("span", "bar-value", bar.text));
      list.appendChild(row);
    });
    return list;
  }

  window.ModelServiceUI = {
    formatNumber: formatNumber,
    asText: asText,
    humanize: humanize,
    shareBars: shareBars,
    contributionBars: contributionBars,
    barChart: barChart,
    element: element
  };
})();
