"""Reviewing real conversations: every company message with what the bot understood of
it (from Rasa's tracker store) and whom it referred to; an admin files a message as a
training example of the right intent, or dismisses it."""
