-- meetings.submit_attempts: how many times Submit (or the reconciler) claimed the
-- meeting to send it to AssemblyAI. Counted apart from meetings.attempts (the acta
-- worker's claims): past MAX_ATTEMPTS the reconciler fails a meeting that never
-- got submitted instead of trying once more.
ALTER TABLE meetings
    ADD COLUMN submit_attempts integer NOT NULL DEFAULT 0 CHECK (submit_attempts >= 0);
