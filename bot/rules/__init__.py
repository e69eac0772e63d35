"""Business rules of the gateway as plain functions: no web, database or Rasa imports."""
