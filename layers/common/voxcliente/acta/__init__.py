"""The acta itself: its model, the prompts that ask for it, the transcript cut in
parts (chunking), the attempts within a deadline, and its generation.

Nothing is re-exported here: ``voxcliente.acta.model`` is imported by the
renderer, which must not pull in the generator and its settings."""
