"""What a meeting is, independent of any service: models, errors, error codes,
languages, recipients and media checks."""
