"""The operator tool: `python -m deploy setup ...` provisions a deployment, `python -m deploy check ...`
proves it cannot lose a notification. Not part of the function's package (tools/package.py ships
handler/ and requirements.txt only); its SDK packages are in requirements-ops.txt."""
