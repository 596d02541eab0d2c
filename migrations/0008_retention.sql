CREATE TABLE "deletion_requests" (
	"id" uuid PRIMARY KEY NOT NULL,
	"referral_id" uuid,
	"reference" text NOT NULL,
	"area_id" text NOT NULL,
	"requested_by_aad_object_id" text NOT NULL,
	"reason" text,
	"status" text DEFAULT 'pending' NOT NULL,
	"requested_at" timestamp with time zone NOT NULL,
	"decided_by_aad_object_id" text,
	"decided_at" timestamp with time zone,
	"decision_note" text,
	"purged_at" timestamp with time zone,
	CONSTRAINT "deletion_requests_status_check" CHECK ("deletion_requests"."status" in ('pending', 'approved', 'declined', 'withdrawn'))
);
--> statement-breakpoint
CREATE TABLE "retention_decisions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"referral_id" uuid NOT NULL,
	"justification" text NOT NULL,
	"child_justification" text,
	"next_review_on" date NOT NULL,
	"decided_by_aad_object_id" text NOT NULL,
	"decided_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "spent_download_tokens" (
	"nonce" text PRIMARY KEY NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "referrals" ADD COLUMN "review_due_on" date;--> statement-breakpoint
ALTER TABLE "referrals" ADD COLUMN "review_reminded_for" date;--> statement-breakpoint
ALTER TABLE "deletion_requests" ADD CONSTRAINT "deletion_requests_referral_id_referrals_id_fk" FOREIGN KEY ("referral_id") REFERENCES "public"."referrals"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "retention_decisions" ADD CONSTRAINT "retention_decisions_referral_id_referrals_id_fk" FOREIGN KEY ("referral_id") REFERENCES "public"."referrals"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "deletion_requests_pending_uq" ON "deletion_requests" USING btree ("referral_id") WHERE "deletion_requests"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "deletion_requests_area_idx" ON "deletion_requests" USING btree ("area_id","requested_at") WHERE "deletion_requests"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "retention_decisions_referral_idx" ON "retention_decisions" USING btree ("referral_id","decided_at");--> statement-breakpoint
CREATE INDEX "spent_download_tokens_expiry_idx" ON "spent_download_tokens" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "referrals_review_idx" ON "referrals" USING btree ("review_due_on");