"""``make bench``: figures measured side by side with their floors and goals."""
