-- The retention purge also forgets what trial mode and abandoned uploads leave
-- behind with an address on it: the confirmation-code emails (no meeting) and
-- the uploads whose file never arrived.
CREATE INDEX email_deliveries_confirmation_purge_idx ON email_deliveries (created_at)
    WHERE kind = 'confirmation' AND recipient IS NOT NULL;
CREATE INDEX uploads_expires_at_idx ON uploads (expires_at);
