"""Steps shared by several flows: failing a meeting with its notice, recording
costs, applying a transcript's status."""
