"""The HTTP edge: request and response shapes, templating, the OpenAPI document, operator auth."""
