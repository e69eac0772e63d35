"""The advisor console: login, the live queue, chats, tickets."""
