"""Services: the use cases (load, compare, promote, launch, export). Pure Python, no Qt."""
