ALTER TABLE "audit_log" ADD COLUMN "organization_id" text;--> statement-breakpoint
CREATE INDEX "audit_log_organization_idx" ON "audit_log" USING btree ("organization_id","changed_at");