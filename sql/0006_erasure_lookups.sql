-- Erasing a person by address (DELETE /me, `make erase EMAIL=...`) also finds
-- the uploads and the emails that name the address outside their meetings (a
-- trial code's email, an upload whose file never came).
CREATE INDEX uploads_email_lower_idx ON uploads (lower(email));
CREATE INDEX email_deliveries_recipient_lower_idx ON email_deliveries (lower(recipient))
    WHERE recipient IS NOT NULL;
