-- Takes the audit chain's lock and reads its last link in one statement (one
-- round trip, so the lock is held a round trip less). The read is a statement
-- of its own inside the function: a VOLATILE function takes a new snapshot
-- for each statement it runs, so under READ COMMITTED the read sees every
-- link committed before the lock was granted, and the chain cannot fork.
CREATE OR REPLACE FUNCTION audit_chain_head(lock_id bigint)
RETURNS TABLE (seq bigint, hash text)
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(lock_id);
  RETURN QUERY SELECT a.seq, a.hash FROM audit_log a ORDER BY a.seq DESC LIMIT 1;
END
$$;
