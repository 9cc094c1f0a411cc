"""The HTTP server shell: health, request ids, logs, limits, token endpoint."""
