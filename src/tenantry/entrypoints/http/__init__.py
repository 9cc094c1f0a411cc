"""What every HTTP face shares: the middleware around them all (request ids, logs), the guard
and exception handlers each face's application has, who is calling, and JSON answers."""
