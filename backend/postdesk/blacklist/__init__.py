"""Blacklist: addresses and whole domains the company never mails and whose mail opens no interaction."""
