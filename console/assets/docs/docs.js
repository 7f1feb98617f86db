// The API reference at /docs: Swagger UI (vendored beside this file, see README.md)
// rendering the spec this server serves. Nothing is fetched off the origin: no
// validator badge, no remote spec.
"use strict";
window.ui = SwaggerUIBundle({
  url: "/openapi.yaml",
  dom_id: "#reference",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  docExpansion: "list",
  defaultModelsExpandDepth: 0,
  displayOperationId: true,
  tryItOutEnabled: false,
});
