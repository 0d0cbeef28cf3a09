"""Platform views, one module per sub-domain."""
