CREATE TABLE "audit_log" (
	"id" text PRIMARY KEY NOT NULL,
	"changed_at" timestamp (3) with time zone NOT NULL,
	"changed_by" text NOT NULL,
	"changed_by_api_key" text,
	"action" text NOT NULL,
	"route" text,
	"table_name" text NOT NULL,
	"object_id" text NOT NULL,
	"before_value" jsonb,
	"updated_values" jsonb
);
--> statement-breakpoint
CREATE TABLE "budgets" (
	"budget_id" text PRIMARY KEY NOT NULL,
	"max_budget" double precision,
	"soft_budget" double precision,
	"max_parallel_requests" bigint,
	"tpm_limit" bigint,
	"rpm_limit" bigint,
	"model_max_budget" jsonb,
	"budget_duration" text,
	"budget_reset_at" timestamp (3) with time zone,
	"allowed_models" jsonb,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"created_by" text,
	"updated_at" timestamp (3) with time zone NOT NULL,
	"updated_by" text
);
--> statement-breakpoint
CREATE TABLE "daily_spend" (
	"entity_type" text NOT NULL,
	"entity_id" text NOT NULL,
	"date" text NOT NULL,
	"api_key" text NOT NULL,
	"model_group" text NOT NULL,
	"model" text NOT NULL,
	"provider" text NOT NULL,
	"prompt_tokens" bigint DEFAULT 0 NOT NULL,
	"completion_tokens" bigint DEFAULT 0 NOT NULL,
	"spend" double precision DEFAULT 0 NOT NULL,
	"api_requests" bigint DEFAULT 0 NOT NULL,
	"successful_requests" bigint DEFAULT 0 NOT NULL,
	"failed_requests" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "daily_spend_entity_type_entity_id_date_api_key_model_group_model_provider_pk" PRIMARY KEY("entity_type","entity_id","date","api_key","model_group","model","provider")
);
--> statement-breakpoint
CREATE TABLE "deleted_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"token" text NOT NULL,
	"key_alias" text,
	"user_id" text,
	"team_id" text,
	"data" jsonb NOT NULL,
	"deleted_at" timestamp (3) with time zone NOT NULL,
	"deleted_by" text
);
--> statement-breakpoint
CREATE TABLE "deleted_teams" (
	"id" text PRIMARY KEY NOT NULL,
	"team_id" text NOT NULL,
	"team_alias" text,
	"data" jsonb NOT NULL,
	"deleted_at" timestamp (3) with time zone NOT NULL,
	"deleted_by" text
);
--> statement-breakpoint
CREATE TABLE "end_users" (
	"user_id" text PRIMARY KEY NOT NULL,
	"alias" text,
	"spend" double precision DEFAULT 0 NOT NULL,
	"budget_id" text,
	"blocked" boolean DEFAULT false NOT NULL,
	"allowed_model_region" text,
	"default_model" text,
	"metadata" jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"created_by" text,
	"updated_at" timestamp (3) with time zone NOT NULL,
	"updated_by" text
);
--> statement-breakpoint
CREATE TABLE "job_leases" (
	"name" text PRIMARY KEY NOT NULL,
	"holder" text NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "key_rotations" (
	"old_token" text PRIMARY KEY NOT NULL,
	"token" text NOT NULL,
	"revoke_at" timestamp (3) with time zone NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "keys" (
	"token" text PRIMARY KEY NOT NULL,
	"key_name" text NOT NULL,
	"key_alias" text,
	"user_id" text,
	"team_id" text,
	"organization_id" text,
	"budget_id" text,
	"models" jsonb NOT NULL,
	"aliases" jsonb NOT NULL,
	"metadata" jsonb NOT NULL,
	"allowed_routes" jsonb NOT NULL,
	"key_type" text DEFAULT 'default' NOT NULL,
	"spend" double precision DEFAULT 0 NOT NULL,
	"max_budget" double precision,
	"soft_budget" double precision,
	"budget_duration" text,
	"budget_reset_at" timestamp (3) with time zone,
	"tpm_limit" bigint,
	"rpm_limit" bigint,
	"max_parallel_requests" bigint,
	"model_max_budget" jsonb NOT NULL,
	"model_spend" jsonb NOT NULL,
	"expires" timestamp (3) with time zone,
	"blocked" boolean DEFAULT false NOT NULL,
	"temp_budget_increase" double precision,
	"temp_budget_expiry" timestamp (3) with time zone,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"created_by" text,
	"updated_at" timestamp (3) with time zone NOT NULL,
	"updated_by" text
);
--> statement-breakpoint
CREATE TABLE "organization_memberships" (
	"user_id" text NOT NULL,
	"organization_id" text NOT NULL,
	"user_role" text NOT NULL,
	"spend" double precision DEFAULT 0 NOT NULL,
	"budget_id" text,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"created_by" text,
	"updated_at" timestamp (3) with time zone NOT NULL,
	"updated_by" text,
	CONSTRAINT "organization_memberships_user_id_organization_id_pk" PRIMARY KEY("user_id","organization_id")
);
--> statement-breakpoint
CREATE TABLE "organizations" (
	"organization_id" text PRIMARY KEY NOT NULL,
	"organization_alias" text NOT NULL,
	"budget_id" text NOT NULL,
	"models" jsonb NOT NULL,
	"metadata" jsonb NOT NULL,
	"spend" double precision DEFAULT 0 NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"created_by" text,
	"updated_at" timestamp (3) with time zone NOT NULL,
	"updated_by" text
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"name" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "spend_logs" (
	"request_id" text PRIMARY KEY NOT NULL,
	"response_id" text,
	"call_type" text NOT NULL,
	"api_key" text NOT NULL,
	"spend" double precision NOT NULL,
	"prompt_tokens" bigint NOT NULL,
	"completion_tokens" bigint NOT NULL,
	"total_tokens" bigint NOT NULL,
	"start_time" timestamp (3) with time zone NOT NULL,
	"end_time" timestamp (3) with time zone NOT NULL,
	"completion_start_time" timestamp (3) with time zone,
	"model" text NOT NULL,
	"model_group" text NOT NULL,
	"model_id" text NOT NULL,
	"provider" text NOT NULL,
	"user_id" text,
	"team_id" text,
	"organization_id" text,
	"end_user" text,
	"request_tags" jsonb NOT NULL,
	"status" text NOT NULL,
	"usage_estimated" boolean DEFAULT false NOT NULL,
	"metadata" jsonb NOT NULL,
	"requester_ip_address" text
);
--> statement-breakpoint
CREATE TABLE "tags" (
	"tag_name" text PRIMARY KEY NOT NULL,
	"description" text,
	"models" jsonb NOT NULL,
	"spend" double precision DEFAULT 0 NOT NULL,
	"budget_id" text,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"created_by" text,
	"updated_at" timestamp (3) with time zone NOT NULL,
	"updated_by" text
);
--> statement-breakpoint
CREATE TABLE "team_memberships" (
	"user_id" text NOT NULL,
	"team_id" text NOT NULL,
	"role" text NOT NULL,
	"spend" double precision DEFAULT 0 NOT NULL,
	"budget_id" text,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"created_by" text,
	"updated_at" timestamp (3) with time zone NOT NULL,
	"updated_by" text,
	CONSTRAINT "team_memberships_user_id_team_id_pk" PRIMARY KEY("user_id","team_id")
);
--> statement-breakpoint
CREATE TABLE "teams" (
	"team_id" text PRIMARY KEY NOT NULL,
	"team_alias" text,
	"organization_id" text,
	"metadata" jsonb NOT NULL,
	"models" jsonb NOT NULL,
	"model_aliases" jsonb,
	"max_budget" double precision,
	"soft_budget" double precision,
	"spend" double precision DEFAULT 0 NOT NULL,
	"budget_duration" text,
	"budget_reset_at" timestamp (3) with time zone,
	"tpm_limit" bigint,
	"rpm_limit" bigint,
	"max_parallel_requests" bigint,
	"blocked" boolean DEFAULT false NOT NULL,
	"team_member_permissions" jsonb NOT NULL,
	"team_member_budget_id" text,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"created_by" text,
	"updated_at" timestamp (3) with time zone NOT NULL,
	"updated_by" text
);
--> statement-breakpoint
CREATE TABLE "users" (
	"user_id" text PRIMARY KEY NOT NULL,
	"user_email" text,
	"user_alias" text,
	"user_role" text NOT NULL,
	"password_hash" text,
	"models" jsonb NOT NULL,
	"metadata" jsonb NOT NULL,
	"spend" double precision DEFAULT 0 NOT NULL,
	"max_budget" double precision,
	"soft_budget" double precision,
	"budget_duration" text,
	"budget_reset_at" timestamp (3) with time zone,
	"tpm_limit" bigint,
	"rpm_limit" bigint,
	"max_parallel_requests" bigint,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"created_by" text,
	"updated_at" timestamp (3) with time zone NOT NULL,
	"updated_by" text
);
--> statement-breakpoint
CREATE INDEX "audit_log_changed_at_idx" ON "audit_log" USING btree ("changed_at");--> statement-breakpoint
CREATE INDEX "audit_log_object_idx" ON "audit_log" USING btree ("table_name","object_id");--> statement-breakpoint
CREATE INDEX "budgets_budget_reset_at_idx" ON "budgets" USING btree ("budget_reset_at");--> statement-breakpoint
CREATE INDEX "daily_spend_date_idx" ON "daily_spend" USING btree ("date");--> statement-breakpoint
CREATE INDEX "deleted_keys_token_idx" ON "deleted_keys" USING btree ("token");--> statement-breakpoint
CREATE INDEX "key_rotations_token_idx" ON "key_rotations" USING btree ("token");--> statement-breakpoint
CREATE UNIQUE INDEX "keys_key_alias_unique" ON "keys" USING btree ("key_alias");--> statement-breakpoint
CREATE INDEX "keys_team_id_idx" ON "keys" USING btree ("team_id");--> statement-breakpoint
CREATE INDEX "keys_user_id_idx" ON "keys" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "keys_budget_reset_at_idx" ON "keys" USING btree ("budget_reset_at");--> statement-breakpoint
CREATE INDEX "organization_memberships_organization_id_idx" ON "organization_memberships" USING btree ("organization_id");--> statement-breakpoint
CREATE INDEX "spend_logs_start_time_idx" ON "spend_logs" USING btree ("start_time");--> statement-breakpoint
CREATE INDEX "spend_logs_api_key_start_time_idx" ON "spend_logs" USING btree ("api_key","start_time");--> statement-breakpoint
CREATE INDEX "spend_logs_team_id_start_time_idx" ON "spend_logs" USING btree ("team_id","start_time");--> statement-breakpoint
CREATE INDEX "spend_logs_end_user_idx" ON "spend_logs" USING btree ("end_user");--> statement-breakpoint
CREATE INDEX "spend_logs_response_id_idx" ON "spend_logs" USING btree ("response_id");--> statement-breakpoint
CREATE INDEX "team_memberships_team_id_idx" ON "team_memberships" USING btree ("team_id");--> statement-breakpoint
CREATE INDEX "teams_organization_id_idx" ON "teams" USING btree ("organization_id");--> statement-breakpoint
CREATE INDEX "teams_budget_reset_at_idx" ON "teams" USING btree ("budget_reset_at");--> statement-breakpoint
CREATE UNIQUE INDEX "users_user_email_unique" ON "users" USING btree (lower("user_email"));--> statement-breakpoint
CREATE INDEX "users_budget_reset_at_idx" ON "users" USING btree ("budget_reset_at");