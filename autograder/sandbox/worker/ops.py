"""Request handlers (registered on import)."""
