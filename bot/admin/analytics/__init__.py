"""The analytics page and the weekly lägesbild (figures from the event log and the messages)."""
