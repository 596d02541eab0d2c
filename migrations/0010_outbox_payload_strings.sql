-- Every string value in an outbox payload (at any depth: digests hold items),
-- so a purge finds the messages that name a person's record through a GIN
-- index instead of scanning every payload as text. Payloads hold ids and
-- references only, so whole-string equality is the right match.
CREATE OR REPLACE FUNCTION outbox_payload_strings(p jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
$$ SELECT coalesce(array_agg(DISTINCT v #>> '{}'), '{}') FROM jsonb_path_query(p, 'strict $.**') v WHERE jsonb_typeof(v) = 'string' $$;
