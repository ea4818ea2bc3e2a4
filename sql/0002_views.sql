-- What each user and each client costs, and how many actas they received.

CREATE VIEW user_cost_summary AS
SELECT u.id AS user_id,
       u.email,
       count(m.id) AS meetings,
       count(m.id) FILTER (WHERE m.status = 'emailed') AS actas,
       count(m.id) FILTER (WHERE m.status = 'failed') AS failed_meetings,
       coalesce(sum(m.total_cost_usd), 0) AS total_cost_usd,
       coalesce(sum(m.audio_duration_s), 0) AS audio_seconds
FROM users u
LEFT JOIN meetings m ON m.user_id = u.id
GROUP BY u.id, u.email;

CREATE VIEW client_cost_summary AS
SELECT c.id AS client_id,
       c.user_id,
       c.name AS client_name,
       count(m.id) AS meetings,
       count(m.id) FILTER (WHERE m.status = 'emailed') AS actas,
       coalesce(sum(m.total_cost_usd), 0) AS total_cost_usd,
       coalesce(sum(m.audio_duration_s), 0) AS audio_seconds
FROM clients c
LEFT JOIN meetings m ON m.client_id = c.id
GROUP BY c.id, c.user_id, c.name;
