"""What the tests stand on: an isolated environment, a real keychain and real MLflow servers.

`environment` prepares the process before anything imports Qt, `keychain` runs a private
Secret Service, `mlflow_servers` starts `mlflow server` processes, `components` decides
whether a missing system component skips (on a developer machine) or fails (CI=true).
"""
