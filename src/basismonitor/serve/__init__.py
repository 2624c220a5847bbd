"""Read-only OData v4 service over the published editions (issue 20)."""
