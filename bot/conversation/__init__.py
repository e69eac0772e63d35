"""The conversation core: who owns a conversation, what was said, and delivery to Rasa and
to the channels. It never imports a channel, the console or the web layer."""
