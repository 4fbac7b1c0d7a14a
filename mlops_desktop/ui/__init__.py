"""The Qt user interface: widgets, item models, charts. Holds no business rule."""
