"""Backends: one Protocol per kind of system, one adapter per real system. No Qt."""
