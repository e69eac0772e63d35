"""Accounts (advisors and admins): passwords, login sessions and CSRF tokens, and their
management from the command line. Shared by the console and the admin pages."""
