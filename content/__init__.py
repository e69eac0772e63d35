"""What the assistant understands and says, in the database: intents, their training
examples, the responses, and the dialogue data Rasa trains on (docs/admin.md).

The database is the source of truth. The files under data/nlu, data/rules, data/stories
and domain.yml seed it (`content.seed`, idempotent, never undoing an admin's edit) and
stay valid Rasa data; `content.export` writes the database back out as a Rasa project,
for training or for a developer to commit. Imports core and directory, never bot/actions.
"""
