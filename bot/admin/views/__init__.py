"""The admin's views, one module per area."""
