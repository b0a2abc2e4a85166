"""Portability: a person's own data taken away and brought back (the Mastodon
archive and CSVs, X/Twitter archives, moving an account), and the instance's
backup and restore."""
