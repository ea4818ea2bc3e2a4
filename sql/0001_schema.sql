-- VoxCliente schema, first version.
-- Conventions: UUID keys (gen_random_uuid, built into PostgreSQL 13+),
-- timestamptz everywhere, created_at/updated_at with updated_at kept by a
-- trigger, snake_case, CHECK constraints for enumerations, an index for every
-- lookup the code makes (named after the query that uses it).

CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

-- People who receive actas. Created on their first meeting; auth_provider_id
-- is filled when they later sign in.
CREATE TABLE users (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email             text NOT NULL CHECK (email = btrim(email) AND email LIKE '%_@_%' AND length(email) <= 320),
    auth_provider_id  text UNIQUE,
    cohort            text NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM')
                      CHECK (cohort ~ '^[0-9]{4}-[0-9]{2}$'),
    first_seen_date   date NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')::date,
    total_cost_usd    numeric(14, 6) NOT NULL DEFAULT 0 CHECK (total_cost_usd >= 0),
    total_actas       integer NOT NULL DEFAULT 0 CHECK (total_actas >= 0),
    email_suppressed_at timestamptz,
    email_suppressed_reason text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
-- Lookup by address, whatever its letter case; also the uniqueness rule.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

CREATE TABLE clients (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 200),
    industry    text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX clients_user_name_lower_key ON clients (user_id, lower(name));

-- A presigned web upload, before (and after) its file arrives.
CREATE TABLE uploads (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email             text NOT NULL CHECK (email LIKE '%_@_%'),
    s3_key            text NOT NULL UNIQUE,
    original_filename text NOT NULL,
    content_type      text NOT NULL,
    size_bytes        bigint NOT NULL CHECK (size_bytes > 0),
    client_name       text,
    meeting_date      date,
    language          text,
    expires_at        timestamptz NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE meetings (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id            uuid REFERENCES users (id) ON DELETE CASCADE,
    client_id          uuid REFERENCES clients (id) ON DELETE SET NULL,
    upload_id          uuid REFERENCES uploads (id) ON DELETE SET NULL,
    recipient_email    text,
    s3_bucket          text NOT NULL,
    s3_key             text NOT NULL,
    -- The object's version id; in an unversioned bucket 'etag:<ETag>', so that the
    -- same name uploaded again with other content is another meeting.
    s3_version_id      text NOT NULL DEFAULT '',
    s3_etag            text,
    size_bytes         bigint CHECK (size_bytes >= 0),
    content_type       text,
    original_filename  text NOT NULL,
    meeting_date       date,
    language           text,
    audio_duration_s   numeric(10, 3) CHECK (audio_duration_s >= 0),
    assemblyai_transcript_id text UNIQUE,
    status             text NOT NULL DEFAULT 'received'
                       CHECK (status IN ('received', 'submitted', 'transcribed', 'generating', 'emailed', 'failed')),
    error_code         text,
    error_message      text,
    received_at        timestamptz NOT NULL DEFAULT now(),
    -- Set by the Submit run that is talking to AssemblyAI, so that a second
    -- delivery of the same S3 event does not submit the file again.
    submit_claimed_at  timestamptz,
    submitted_at       timestamptz,
    transcribed_at     timestamptz,
    generating_at      timestamptz,
    emailed_at         timestamptz,
    failed_at          timestamptz,
    transcription_cost_usd numeric(14, 6) NOT NULL DEFAULT 0 CHECK (transcription_cost_usd >= 0),
    llm_cost_usd       numeric(14, 6) NOT NULL DEFAULT 0 CHECK (llm_cost_usd >= 0),
    email_cost_usd     numeric(14, 6) NOT NULL DEFAULT 0 CHECK (email_cost_usd >= 0),
    total_cost_usd     numeric(14, 6) NOT NULL DEFAULT 0 CHECK (total_cost_usd >= 0),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (s3_bucket, s3_key, s3_version_id),
    CHECK ((status = 'failed') = (error_code IS NOT NULL)),
    CHECK (status <> 'submitted' OR assemblyai_transcript_id IS NOT NULL)
);
CREATE INDEX meetings_user_id_idx ON meetings (user_id);
CREATE INDEX meetings_client_id_idx ON meetings (client_id);
CREATE INDEX meetings_upload_id_idx ON meetings (upload_id);
-- The reconciler's sweep: meetings waiting in one state since when.
CREATE INDEX meetings_submitted_sweep_idx ON meetings (submitted_at) WHERE status = 'submitted';
CREATE INDEX meetings_generating_sweep_idx ON meetings (generating_at) WHERE status = 'generating';
CREATE INDEX meetings_transcribed_sweep_idx ON meetings (transcribed_at) WHERE status = 'transcribed';
CREATE INDEX meetings_failed_sweep_idx ON meetings (failed_at) WHERE status = 'failed';

CREATE TABLE transcripts (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    meeting_id    uuid NOT NULL UNIQUE REFERENCES meetings (id) ON DELETE CASCADE,
    text          text NOT NULL,
    -- [{"speaker": "A", "start_ms": 0, "end_ms": 1200, "text": "...", "confidence": 0.93}]
    utterances    jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(utterances) = 'array'),
    language      text,
    confidence    numeric(5, 4) CHECK (confidence BETWEEN 0 AND 1),
    word_count    integer NOT NULL DEFAULT 0 CHECK (word_count >= 0),
    audio_duration_s numeric(10, 3) CHECK (audio_duration_s >= 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE actas (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    meeting_id         uuid NOT NULL UNIQUE REFERENCES meetings (id) ON DELETE CASCADE,
    content            jsonb NOT NULL CHECK (jsonb_typeof(content) = 'object'),
    language           text NOT NULL,
    model              text NOT NULL,
    input_tokens       integer NOT NULL DEFAULT 0 CHECK (input_tokens >= 0),
    output_tokens      integer NOT NULL DEFAULT 0 CHECK (output_tokens >= 0),
    parts              integer NOT NULL DEFAULT 1 CHECK (parts >= 1),
    generation_ms      integer NOT NULL DEFAULT 0 CHECK (generation_ms >= 0),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE email_deliveries (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    meeting_id       uuid REFERENCES meetings (id) ON DELETE CASCADE,
    user_id          uuid REFERENCES users (id) ON DELETE CASCADE,
    recipient        text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('acta', 'failure')),
    ses_message_id   text UNIQUE,
    -- pending: reserved, not yet accepted by SES (a retry may send it);
    -- sent: SES accepted it; then what the SES events report.
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'sent', 'delivered', 'bounced', 'complained', 'rejected', 'suppressed')),
    bounce_type      text,
    bounce_subtype   text,
    complaint_type   text,
    details          jsonb NOT NULL DEFAULT '{}',
    sent_at          timestamptz,
    delivered_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX email_deliveries_meeting_id_idx ON email_deliveries (meeting_id);
CREATE INDEX email_deliveries_user_id_idx ON email_deliveries (user_id);
-- One email of each kind per meeting: the guard behind "exactly one email".
CREATE UNIQUE INDEX email_deliveries_meeting_kind_key ON email_deliveries (meeting_id, kind)
    WHERE meeting_id IS NOT NULL;

CREATE TABLE usage_records (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    meeting_id    uuid NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    user_id       uuid REFERENCES users (id) ON DELETE CASCADE,
    provider      text NOT NULL CHECK (provider IN ('assemblyai', 'openai', 'ses')),
    item          text NOT NULL,           -- speech model, "gpt-4.1-mini:input", "email"
    quantity      numeric(16, 3) NOT NULL CHECK (quantity >= 0),
    unit          text NOT NULL CHECK (unit IN ('audio_second', 'input_token', 'output_token', 'message')),
    unit_price_usd numeric(18, 12) NOT NULL CHECK (unit_price_usd >= 0),
    cost_usd      numeric(14, 6) NOT NULL CHECK (cost_usd >= 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (meeting_id, provider, item, unit)
);
CREATE INDEX usage_records_user_id_idx ON usage_records (user_id);

CREATE TABLE meeting_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    meeting_id  uuid NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    from_status text,
    to_status   text NOT NULL,
    event       text NOT NULL,
    details     jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX meeting_events_meeting_id_idx ON meeting_events (meeting_id, id);

CREATE TRIGGER users_updated_at BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER clients_updated_at BEFORE UPDATE ON clients FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER uploads_updated_at BEFORE UPDATE ON uploads FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER meetings_updated_at BEFORE UPDATE ON meetings FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER transcripts_updated_at BEFORE UPDATE ON transcripts FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER actas_updated_at BEFORE UPDATE ON actas FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER email_deliveries_updated_at BEFORE UPDATE ON email_deliveries FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER usage_records_updated_at BEFORE UPDATE ON usage_records FOR EACH ROW EXECUTE FUNCTION set_updated_at();
