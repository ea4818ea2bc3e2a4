"""The acta itself: its model, the prompts that ask for it, and its generation."""
