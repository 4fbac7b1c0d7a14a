"""Domain objects: frozen dataclasses shared by backends, services and the UI. No I/O, no Qt."""
