-- Saved assessments and chronology entries are never edited in place (a
-- correction is a new entry): refuse UPDATE at the database. DELETE stays
-- possible for retention purges, which remove a person's whole record.
CREATE OR REPLACE FUNCTION case_record_no_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only (UPDATE refused)', TG_TABLE_NAME;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER triage_assessments_no_update
  BEFORE UPDATE ON triage_assessments
  FOR EACH ROW EXECUTE FUNCTION case_record_no_update();
--> statement-breakpoint
CREATE TRIGGER case_entries_no_update
  BEFORE UPDATE ON case_entries
  FOR EACH ROW EXECUTE FUNCTION case_record_no_update();
