-- Bounded, resumable work and exactly one email per (meeting, kind).
--
-- meetings.attempts: how many times a worker claimed the meeting's acta work
-- (incremented at each claim). Past MAX_ATTEMPTS an unexpected failure ends the
-- meeting 'failed' (internal_error) and the reconciler stops re-queueing it.
ALTER TABLE meetings
    ADD COLUMN attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0);

-- email_deliveries: reserving an email is a claim.
--   pending   : nobody is sending it and SES never accepted it (a retry may claim it);
--   sending   : claimed at claimed_at, SES may be being called right now;
--   sent      : SES accepted it (ses_message_id known), then what SES events say:
--   delivered, bounced, complained, rejected;
--   suppressed: not sent, the address is suppressed;
--   failed    : not sent, for good (SES refused it, the address cannot be written
--               in a message, too many attempts, or its outcome is unknown: see
--               details.reason).
ALTER TABLE email_deliveries DROP CONSTRAINT email_deliveries_status_check;
ALTER TABLE email_deliveries
    ADD CONSTRAINT email_deliveries_status_check
    CHECK (status IN ('pending', 'sending', 'sent', 'delivered', 'bounced', 'complained',
                      'rejected', 'suppressed', 'failed'));
ALTER TABLE email_deliveries
    ADD COLUMN claimed_at timestamptz,
    ADD COLUMN attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    ADD CONSTRAINT email_deliveries_sending_claimed_check
        CHECK (status <> 'sending' OR claimed_at IS NOT NULL);
