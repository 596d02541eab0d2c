CREATE TABLE "user_settings" (
	"aad_object_id" text PRIMARY KEY NOT NULL,
	"reminder_mode" text DEFAULT 'immediate' NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "user_settings_mode_check" CHECK ("user_settings"."reminder_mode" in ('immediate', 'digest'))
);
--> statement-breakpoint
DROP INDEX "case_actions_due_idx";--> statement-breakpoint
ALTER TABLE "case_actions" ADD COLUMN "reminder_stage" smallint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "conversation_refs" ADD COLUMN "unreachable_since" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "referrals" ADD COLUMN "triage_reminder_stage" smallint DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "case_actions_remind_idx" ON "case_actions" USING btree ("due_on") WHERE "case_actions"."status" = 'open' and "case_actions"."reminder_stage" < 4;--> statement-breakpoint
CREATE INDEX "outbox_held_idx" ON "outbox" USING btree ("next_attempt_at","recipient_aad_object_id") WHERE "outbox"."status" = 'held';--> statement-breakpoint
CREATE INDEX "referrals_triage_remind_idx" ON "referrals" USING btree ("triage_due_on") WHERE "referrals"."status" = 'received' and "referrals"."triage_reminder_stage" < 2;