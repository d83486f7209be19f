"""Our CRD contract: names, shapes and condition strings. Pure; no behaviour."""
