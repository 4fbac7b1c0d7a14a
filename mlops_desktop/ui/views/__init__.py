"""One module per view; `VIEW_CLASSES` lists them in navigation order."""
