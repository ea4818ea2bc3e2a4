-- Accounts, history and erasure.
--
-- Sign-in: a person is the (issuer, subject) pair of their identity provider's
-- token. The row their first actas created (keyed by address) is linked to it
-- by the token's verified email, so those actas appear in the new account.
-- auth_provider_id (0001) is superseded by the pair and left unused.
ALTER TABLE users
    ADD COLUMN auth_issuer text,
    ADD COLUMN auth_subject text,
    ADD COLUMN signed_up_at timestamptz,
    ADD CONSTRAINT users_auth_pair_check CHECK ((auth_issuer IS NULL) = (auth_subject IS NULL));
-- The caller of every signed-in request is looked up by this pair.
CREATE UNIQUE INDEX users_auth_key ON users (auth_issuer, auth_subject)
    WHERE auth_issuer IS NOT NULL;

-- Erasing a person deletes their users row (and their clients with it); what
-- they were billed must survive for accounting, without the person: the
-- meetings, usage lines and email rows that pointed at them keep no owner.
ALTER TABLE meetings DROP CONSTRAINT meetings_user_id_fkey,
    ADD CONSTRAINT meetings_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE usage_records DROP CONSTRAINT usage_records_user_id_fkey,
    ADD CONSTRAINT usage_records_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE email_deliveries DROP CONSTRAINT email_deliveries_user_id_fkey,
    ADD CONSTRAINT email_deliveries_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE SET NULL;

-- Who asked for an upload: the signed-in user, or (trial mode) the confirmed
-- address and the source IP its limits count.
ALTER TABLE uploads
    ADD COLUMN user_id uuid REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN confirmation_id uuid,
    ADD COLUMN source_ip inet;
CREATE INDEX uploads_user_id_idx ON uploads (user_id);

-- Trial mode (AnonymousUploads=confirm-email): a one-time code emailed to an
-- address; the presigned POST is handed out only once the code comes back.
-- Only a hash of the code is kept. Rows older than two days are purged.
CREATE TABLE email_confirmations (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text NOT NULL CHECK (email = btrim(email) AND email LIKE '%_@_%' AND length(email) <= 320),
    code_hash     text NOT NULL,
    source_ip     inet,
    attempts      integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    expires_at    timestamptz NOT NULL,
    confirmed_at  timestamptz,
    used_at       timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
-- The per-address and per-source-IP daily limits count rows by these.
CREATE INDEX email_confirmations_email_day_idx ON email_confirmations (lower(email), created_at);
CREATE INDEX email_confirmations_ip_day_idx ON email_confirmations (source_ip, created_at);
CREATE INDEX email_confirmations_created_idx ON email_confirmations (created_at);
CREATE TRIGGER email_confirmations_updated_at BEFORE UPDATE ON email_confirmations
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- A meeting's life after its email: the documents kept for download, the
-- transcript deleted at AssemblyAI, the transcript purged here, and erasure.
-- An erased meeting keeps its row (status, timestamps, costs) and nothing
-- personal: the soft delete that lets totals add up.
ALTER TABLE meetings
    ADD COLUMN docx_s3_key text,
    ADD COLUMN transcript_s3_key text,
    ADD COLUMN provider_transcript_deleted_at timestamptz,
    ADD COLUMN transcript_purged_at timestamptz,
    ADD COLUMN erased_at timestamptz;
-- GET /meetings: a user's meetings, newest first, keyset-paginated on
-- (received_at, id); also the monthly audio-minutes quota's sum.
CREATE INDEX meetings_user_history_idx ON meetings (user_id, received_at DESC, id DESC);
-- The same, filtered by client.
CREATE INDEX meetings_client_history_idx ON meetings (client_id, received_at DESC, id DESC);
-- Emailed meetings whose transcript AssemblyAI still holds.
CREATE INDEX meetings_provider_delete_sweep_idx ON meetings (emailed_at)
    WHERE status = 'emailed' AND provider_transcript_deleted_at IS NULL
      AND assemblyai_transcript_id IS NOT NULL;
-- Retention: meetings not yet erased, and transcripts not yet purged, by age.
CREATE INDEX meetings_retention_idx ON meetings (received_at) WHERE erased_at IS NULL;
CREATE INDEX meetings_transcript_retention_idx ON meetings (received_at)
    WHERE transcript_purged_at IS NULL AND erased_at IS NULL;

-- Emails: an acta sent again on request (several allowed) and the trial
-- mode's confirmation code (no meeting). The one-per-meeting rule stays for
-- the acta and the failure notice. An erased email row keeps no recipient.
ALTER TABLE email_deliveries DROP CONSTRAINT email_deliveries_kind_check,
    ADD CONSTRAINT email_deliveries_kind_check
        CHECK (kind IN ('acta', 'failure', 'resend', 'confirmation'));
DROP INDEX email_deliveries_meeting_kind_key;
CREATE UNIQUE INDEX email_deliveries_meeting_kind_key ON email_deliveries (meeting_id, kind)
    WHERE meeting_id IS NOT NULL AND kind IN ('acta', 'failure');
ALTER TABLE email_deliveries ALTER COLUMN recipient DROP NOT NULL;

-- The daily spend guard sums today's usage lines.
CREATE INDEX usage_records_created_at_idx ON usage_records (created_at);

-- Erasure: one row per thing erased (a meeting, a user, or a meeting's
-- transcript at the end of its retention), which is also the audit record:
-- who asked (the user themself, an operator, the retention purge) and when,
-- with no personal data. What is left to erase outside PostgreSQL (S3 keys,
-- AssemblyAI transcript ids) waits in `pending` until done, then is emptied;
-- the reconciler finishes rows left pending by a failure.
CREATE TABLE erasures (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    subject        text NOT NULL CHECK (subject IN ('meeting', 'user', 'transcript')),
    -- No foreign key: the user row is gone once erased.
    subject_id     uuid NOT NULL,
    requested_by   text NOT NULL CHECK (requested_by IN ('user', 'operator', 'retention')),
    actor_user_id  uuid,
    status         text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done')),
    pending        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(pending) = 'object'),
    attempts       integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error     text,
    completed_at   timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'done') = (completed_at IS NOT NULL))
);
-- Idempotence: erasing the same thing twice finds its row.
CREATE UNIQUE INDEX erasures_subject_key ON erasures (subject, subject_id);
-- The reconciler's sweep of unfinished erasures.
CREATE INDEX erasures_pending_sweep_idx ON erasures (updated_at) WHERE status = 'pending';
CREATE TRIGGER erasures_updated_at BEFORE UPDATE ON erasures
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
