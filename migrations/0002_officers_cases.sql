CREATE TABLE "case_actions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"case_id" uuid NOT NULL,
	"kind" text DEFAULT 'officer' NOT NULL,
	"title" text NOT NULL,
	"owner_aad_object_id" text NOT NULL,
	"due_on" date NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "case_actions_status_check" CHECK ("case_actions"."status" in ('open', 'done')),
	CONSTRAINT "case_actions_kind_check" CHECK ("case_actions"."kind" in ('officer', 'system'))
);
--> statement-breakpoint
CREATE TABLE "case_entries" (
	"id" uuid PRIMARY KEY NOT NULL,
	"seq" bigserial NOT NULL,
	"case_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"subject_id" uuid,
	"corrects_entry_id" uuid,
	"data" jsonb NOT NULL,
	"author_aad_object_id" text NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cases" (
	"id" uuid PRIMARY KEY NOT NULL,
	"referral_id" uuid NOT NULL,
	"area_id" text NOT NULL,
	"owner_aad_object_id" text NOT NULL,
	"kind" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"opened_at" timestamp with time zone NOT NULL,
	"closed_at" timestamp with time zone,
	"last_activity_at" timestamp with time zone NOT NULL,
	CONSTRAINT "cases_kind_check" CHECK ("cases"."kind" in ('channel', 'police_led')),
	CONSTRAINT "cases_status_check" CHECK ("cases"."status" in ('open', 'closed'))
);
--> statement-breakpoint
CREATE TABLE "triage_assessments" (
	"id" uuid PRIMARY KEY NOT NULL,
	"referral_id" uuid NOT NULL,
	"outcome" text NOT NULL,
	"signposted_to" text,
	"rationale" text NOT NULL,
	"contact_made" boolean NOT NULL,
	"assessed_by_aad_object_id" text NOT NULL,
	"assessed_at" timestamp with time zone NOT NULL,
	CONSTRAINT "triage_assessments_outcome_check" CHECK ("triage_assessments"."outcome" in ('no_further_action', 'signposted', 'channel', 'police_led', 'ct_policing'))
);
--> statement-breakpoint
DROP INDEX "referrals_area_idx";--> statement-breakpoint
ALTER TABLE "referrals" ADD COLUMN "triage_due_on" date NOT NULL;--> statement-breakpoint
ALTER TABLE "case_actions" ADD CONSTRAINT "case_actions_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "case_entries" ADD CONSTRAINT "case_entries_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "case_entries" ADD CONSTRAINT "case_entries_corrects_entry_id_case_entries_id_fk" FOREIGN KEY ("corrects_entry_id") REFERENCES "public"."case_entries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cases" ADD CONSTRAINT "cases_referral_id_referrals_id_fk" FOREIGN KEY ("referral_id") REFERENCES "public"."referrals"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "triage_assessments" ADD CONSTRAINT "triage_assessments_referral_id_referrals_id_fk" FOREIGN KEY ("referral_id") REFERENCES "public"."referrals"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "case_actions_case_idx" ON "case_actions" USING btree ("case_id","status","due_on");--> statement-breakpoint
CREATE INDEX "case_actions_due_idx" ON "case_actions" USING btree ("due_on") WHERE "case_actions"."status" = 'open';--> statement-breakpoint
CREATE INDEX "case_actions_owner_idx" ON "case_actions" USING btree ("owner_aad_object_id","status","due_on");--> statement-breakpoint
CREATE INDEX "case_entries_case_idx" ON "case_entries" USING btree ("case_id","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "case_entries_corrects_uq" ON "case_entries" USING btree ("corrects_entry_id");--> statement-breakpoint
CREATE UNIQUE INDEX "cases_referral_uq" ON "cases" USING btree ("referral_id");--> statement-breakpoint
CREATE INDEX "cases_owner_idx" ON "cases" USING btree ("owner_aad_object_id","status","opened_at");--> statement-breakpoint
CREATE INDEX "cases_area_idx" ON "cases" USING btree ("area_id","status");--> statement-breakpoint
CREATE UNIQUE INDEX "triage_assessments_referral_uq" ON "triage_assessments" USING btree ("referral_id");--> statement-breakpoint
CREATE INDEX "referrals_area_idx" ON "referrals" USING btree ("area_id","status","submitted_at");