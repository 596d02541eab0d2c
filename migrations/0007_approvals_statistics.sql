CREATE TABLE "access_requests" (
	"id" uuid PRIMARY KEY NOT NULL,
	"referral_id" uuid NOT NULL,
	"area_id" text NOT NULL,
	"requester_aad_object_id" text NOT NULL,
	"requester_role" text NOT NULL,
	"purpose" text NOT NULL,
	"purpose_detail" text,
	"justification" text NOT NULL,
	"scopes" jsonb NOT NULL,
	"days" smallint NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"requested_at" timestamp with time zone NOT NULL,
	"decided_by_aad_object_id" text,
	"decided_at" timestamp with time zone,
	"decision_note" text,
	"expires_at" timestamp with time zone,
	"expiry_warned_at" timestamp with time zone,
	CONSTRAINT "access_requests_status_check" CHECK ("access_requests"."status" in ('pending', 'granted', 'declined', 'withdrawn', 'refused')),
	CONSTRAINT "access_requests_days_check" CHECK ("access_requests"."days" between 1 and 30),
	CONSTRAINT "access_requests_role_check" CHECK ("access_requests"."requester_role" in ('officer', 'partner'))
);
--> statement-breakpoint
CREATE TABLE "referral_statistics" (
	"id" uuid PRIMARY KEY NOT NULL,
	"referral_id" uuid,
	"pathway" text NOT NULL,
	"financial_year" smallint NOT NULL,
	"sector" text NOT NULL,
	"concern_type" text NOT NULL,
	"age_band" text NOT NULL,
	"gender" text NOT NULL,
	"area_id" text NOT NULL,
	"outcome" text,
	"channel_adopted" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "transfers" (
	"id" uuid PRIMARY KEY NOT NULL,
	"case_id" uuid NOT NULL,
	"from_area_id" text NOT NULL,
	"to_area_id" text NOT NULL,
	"requested_by_aad_object_id" text NOT NULL,
	"reason" text NOT NULL,
	"new_address" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"requested_at" timestamp with time zone NOT NULL,
	"escalate_after" date NOT NULL,
	"escalated_at" timestamp with time zone,
	"decided_by_aad_object_id" text,
	"decided_at" timestamp with time zone,
	"decision_note" text,
	"new_owner_aad_object_id" text,
	CONSTRAINT "transfers_status_check" CHECK ("transfers"."status" in ('pending', 'accepted', 'declined', 'withdrawn')),
	CONSTRAINT "transfers_areas_differ" CHECK ("transfers"."from_area_id" <> "transfers"."to_area_id")
);
--> statement-breakpoint
ALTER TABLE "cases" ALTER COLUMN "owner_aad_object_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "sent_activity_id" text;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "subject_id" uuid;--> statement-breakpoint
ALTER TABLE "referrals" ADD COLUMN "person_key" text;--> statement-breakpoint
ALTER TABLE "access_requests" ADD CONSTRAINT "access_requests_referral_id_referrals_id_fk" FOREIGN KEY ("referral_id") REFERENCES "public"."referrals"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referral_statistics" ADD CONSTRAINT "referral_statistics_referral_id_referrals_id_fk" FOREIGN KEY ("referral_id") REFERENCES "public"."referrals"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "access_requests_area_idx" ON "access_requests" USING btree ("area_id","requested_at") WHERE "access_requests"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "access_requests_requester_idx" ON "access_requests" USING btree ("requester_aad_object_id","referral_id","status");--> statement-breakpoint
CREATE INDEX "access_requests_expiry_idx" ON "access_requests" USING btree ("expires_at") WHERE "access_requests"."status" = 'granted' and "access_requests"."expiry_warned_at" is null;--> statement-breakpoint
CREATE INDEX "access_requests_referral_idx" ON "access_requests" USING btree ("referral_id");--> statement-breakpoint
CREATE UNIQUE INDEX "referral_statistics_referral_uq" ON "referral_statistics" USING btree ("referral_id");--> statement-breakpoint
CREATE INDEX "referral_statistics_year_idx" ON "referral_statistics" USING btree ("pathway","financial_year");--> statement-breakpoint
CREATE UNIQUE INDEX "transfers_pending_uq" ON "transfers" USING btree ("case_id") WHERE "transfers"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "transfers_to_area_idx" ON "transfers" USING btree ("to_area_id","requested_at") WHERE "transfers"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "transfers_escalate_idx" ON "transfers" USING btree ("escalate_after") WHERE "transfers"."status" = 'pending' and "transfers"."escalated_at" is null;--> statement-breakpoint
CREATE INDEX "transfers_case_idx" ON "transfers" USING btree ("case_id","requested_at");--> statement-breakpoint
CREATE INDEX "cases_unowned_idx" ON "cases" USING btree ("area_id","opened_at") WHERE "cases"."owner_aad_object_id" is null and "cases"."status" = 'open';--> statement-breakpoint
CREATE INDEX "outbox_subject_idx" ON "outbox" USING btree ("subject_id") WHERE "outbox"."subject_id" is not null;--> statement-breakpoint
CREATE INDEX "referrals_person_key_idx" ON "referrals" USING btree ("person_key") WHERE "referrals"."person_key" is not null;