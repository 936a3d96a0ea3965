CREATE TABLE "settled_requests" (
	"request_id" text PRIMARY KEY NOT NULL,
	"settled_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "settled_requests_settled_at_idx" ON "settled_requests" USING btree ("settled_at");--> statement-breakpoint
CREATE INDEX "daily_spend_entity_type_date_idx" ON "daily_spend" USING btree ("entity_type","date");