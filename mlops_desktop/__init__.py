"""MLOps Desktop: a desktop control centre for ML team leads."""

__version__ = "0.1.0"
APP_NAME = "mlops-desktop"
APP_TITLE = "MLOps Desktop"
