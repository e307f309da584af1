"""One module per part of the workspace; each adds its own routes."""
