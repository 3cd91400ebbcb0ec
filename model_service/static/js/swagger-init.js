/* Start Swagger UI on /api/docs. Kept out of the HTML so the page needs no inline script
   (Content-Security-Policy script-src 'self'). The document URL comes from data-spec-url. */
(function () {
  "use strict";

  var container = document.getElementById("swagger-ui");
  if (!container || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.ui = window.SwaggerUIBundle({
    url: container.getAttribute("data-spec-url"),
    domNode: container,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    // Never send the document to the public validator service: everything stays local.
    validatorUrl: null,
    defaultModelsExpandDepth: 0,
    displayRequestDuration: true,
    tryItOutEnabled: false,
  });
})();
