"""The admin's pages (/admin): server-rendered Swedish forms that work without JavaScript,
for editing what the assistant understands and says, the directory, and the accounts, and
for training and activating models. Only accounts with the role `admin` get in."""
