CREATE TABLE `audit_log` (
	`id` text PRIMARY KEY NOT NULL,
	`changed_at` integer NOT NULL,
	`changed_by` text NOT NULL,
	`changed_by_api_key` text,
	`action` text NOT NULL,
	`route` text,
	`table_name` text NOT NULL,
	`object_id` text NOT NULL,
	`before_value` text,
	`updated_values` text
);
--> statement-breakpoint
CREATE INDEX `audit_log_changed_at_idx` ON `audit_log` (`changed_at`);--> statement-breakpoint
CREATE INDEX `audit_log_object_idx` ON `audit_log` (`table_name`,`object_id`);--> statement-breakpoint
CREATE TABLE `budgets` (
	`budget_id` text PRIMARY KEY NOT NULL,
	`max_budget` real,
	`soft_budget` real,
	`max_parallel_requests` integer,
	`tpm_limit` integer,
	`rpm_limit` integer,
	`model_max_budget` text,
	`budget_duration` text,
	`budget_reset_at` integer,
	`allowed_models` text,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` integer NOT NULL,
	`created_by` text,
	`updated_at` integer NOT NULL,
	`updated_by` text
);
--> statement-breakpoint
CREATE INDEX `budgets_budget_reset_at_idx` ON `budgets` (`budget_reset_at`);--> statement-breakpoint
CREATE TABLE `daily_spend` (
	`entity_type` text NOT NULL,
	`entity_id` text NOT NULL,
	`date` text NOT NULL,
	`api_key` text NOT NULL,
	`model_group` text NOT NULL,
	`model` text NOT NULL,
	`provider` text NOT NULL,
	`prompt_tokens` integer DEFAULT 0 NOT NULL,
	`completion_tokens` integer DEFAULT 0 NOT NULL,
	`spend` real DEFAULT 0 NOT NULL,
	`api_requests` integer DEFAULT 0 NOT NULL,
	`successful_requests` integer DEFAULT 0 NOT NULL,
	`failed_requests` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`entity_type`, `entity_id`, `date`, `api_key`, `model_group`, `model`, `provider`)
);
--> statement-breakpoint
CREATE INDEX `daily_spend_date_idx` ON `daily_spend` (`date`);--> statement-breakpoint
CREATE TABLE `deleted_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`token` text NOT NULL,
	`key_alias` text,
	`user_id` text,
	`team_id` text,
	`data` text NOT NULL,
	`deleted_at` integer NOT NULL,
	`deleted_by` text
);
--> statement-breakpoint
CREATE INDEX `deleted_keys_token_idx` ON `deleted_keys` (`token`);--> statement-breakpoint
CREATE TABLE `deleted_teams` (
	`id` text PRIMARY KEY NOT NULL,
	`team_id` text NOT NULL,
	`team_alias` text,
	`data` text NOT NULL,
	`deleted_at` integer NOT NULL,
	`deleted_by` text
);
--> statement-breakpoint
CREATE TABLE `end_users` (
	`user_id` text PRIMARY KEY NOT NULL,
	`alias` text,
	`spend` real DEFAULT 0 NOT NULL,
	`budget_id` text,
	`blocked` integer DEFAULT false NOT NULL,
	`allowed_model_region` text,
	`default_model` text,
	`metadata` text NOT NULL,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` integer NOT NULL,
	`created_by` text,
	`updated_at` integer NOT NULL,
	`updated_by` text
);
--> statement-breakpoint
CREATE TABLE `job_leases` (
	`name` text PRIMARY KEY NOT NULL,
	`holder` text NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `key_rotations` (
	`old_token` text PRIMARY KEY NOT NULL,
	`token` text NOT NULL,
	`revoke_at` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `key_rotations_token_idx` ON `key_rotations` (`token`);--> statement-breakpoint
CREATE TABLE `keys` (
	`token` text PRIMARY KEY NOT NULL,
	`key_name` text NOT NULL,
	`key_alias` text,
	`user_id` text,
	`team_id` text,
	`organization_id` text,
	`budget_id` text,
	`models` text NOT NULL,
	`aliases` text NOT NULL,
	`metadata` text NOT NULL,
	`allowed_routes` text NOT NULL,
	`key_type` text DEFAULT 'default' NOT NULL,
	`spend` real DEFAULT 0 NOT NULL,
	`max_budget` real,
	`soft_budget` real,
	`budget_duration` text,
	`budget_reset_at` integer,
	`tpm_limit` integer,
	`rpm_limit` integer,
	`max_parallel_requests` integer,
	`model_max_budget` text NOT NULL,
	`model_spend` text NOT NULL,
	`expires` integer,
	`blocked` integer DEFAULT false NOT NULL,
	`temp_budget_increase` real,
	`temp_budget_expiry` integer,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` integer NOT NULL,
	`created_by` text,
	`updated_at` integer NOT NULL,
	`updated_by` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `keys_key_alias_unique` ON `keys` (`key_alias`);--> statement-breakpoint
CREATE INDEX `keys_team_id_idx` ON `keys` (`team_id`);--> statement-breakpoint
CREATE INDEX `keys_user_id_idx` ON `keys` (`user_id`);--> statement-breakpoint
CREATE INDEX `keys_budget_reset_at_idx` ON `keys` (`budget_reset_at`);--> statement-breakpoint
CREATE TABLE `organization_memberships` (
	`user_id` text NOT NULL,
	`organization_id` text NOT NULL,
	`user_role` text NOT NULL,
	`spend` real DEFAULT 0 NOT NULL,
	`budget_id` text,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` integer NOT NULL,
	`created_by` text,
	`updated_at` integer NOT NULL,
	`updated_by` text,
	PRIMARY KEY(`user_id`, `organization_id`)
);
--> statement-breakpoint
CREATE INDEX `organization_memberships_organization_id_idx` ON `organization_memberships` (`organization_id`);--> statement-breakpoint
CREATE TABLE `organizations` (
	`organization_id` text PRIMARY KEY NOT NULL,
	`organization_alias` text NOT NULL,
	`budget_id` text NOT NULL,
	`models` text NOT NULL,
	`metadata` text NOT NULL,
	`spend` real DEFAULT 0 NOT NULL,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` integer NOT NULL,
	`created_by` text,
	`updated_at` integer NOT NULL,
	`updated_by` text
);
--> statement-breakpoint
CREATE TABLE `settings` (
	`name` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `spend_logs` (
	`request_id` text PRIMARY KEY NOT NULL,
	`response_id` text,
	`call_type` text NOT NULL,
	`api_key` text NOT NULL,
	`spend` real NOT NULL,
	`prompt_tokens` integer NOT NULL,
	`completion_tokens` integer NOT NULL,
	`total_tokens` integer NOT NULL,
	`start_time` integer NOT NULL,
	`end_time` integer NOT NULL,
	`completion_start_time` integer,
	`model` text NOT NULL,
	`model_group` text NOT NULL,
	`model_id` text NOT NULL,
	`provider` text NOT NULL,
	`user_id` text,
	`team_id` text,
	`organization_id` text,
	`end_user` text,
	`request_tags` text NOT NULL,
	`status` text NOT NULL,
	`usage_estimated` integer DEFAULT false NOT NULL,
	`metadata` text NOT NULL,
	`requester_ip_address` text
);
--> statement-breakpoint
CREATE INDEX `spend_logs_start_time_idx` ON `spend_logs` (`start_time`);--> statement-breakpoint
CREATE INDEX `spend_logs_api_key_start_time_idx` ON `spend_logs` (`api_key`,`start_time`);--> statement-breakpoint
CREATE INDEX `spend_logs_team_id_start_time_idx` ON `spend_logs` (`team_id`,`start_time`);--> statement-breakpoint
CREATE INDEX `spend_logs_end_user_idx` ON `spend_logs` (`end_user`);--> statement-breakpoint
CREATE INDEX `spend_logs_response_id_idx` ON `spend_logs` (`response_id`);--> statement-breakpoint
CREATE TABLE `tags` (
	`tag_name` text PRIMARY KEY NOT NULL,
	`description` text,
	`models` text NOT NULL,
	`spend` real DEFAULT 0 NOT NULL,
	`budget_id` text,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` integer NOT NULL,
	`created_by` text,
	`updated_at` integer NOT NULL,
	`updated_by` text
);
--> statement-breakpoint
CREATE TABLE `team_memberships` (
	`user_id` text NOT NULL,
	`team_id` text NOT NULL,
	`role` text NOT NULL,
	`spend` real DEFAULT 0 NOT NULL,
	`budget_id` text,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` integer NOT NULL,
	`created_by` text,
	`updated_at` integer NOT NULL,
	`updated_by` text,
	PRIMARY KEY(`user_id`, `team_id`)
);
--> statement-breakpoint
CREATE INDEX `team_memberships_team_id_idx` ON `team_memberships` (`team_id`);--> statement-breakpoint
CREATE TABLE `teams` (
	`team_id` text PRIMARY KEY NOT NULL,
	`team_alias` text,
	`organization_id` text,
	`metadata` text NOT NULL,
	`models` text NOT NULL,
	`model_aliases` text,
	`max_budget` real,
	`soft_budget` real,
	`spend` real DEFAULT 0 NOT NULL,
	`budget_duration` text,
	`budget_reset_at` integer,
	`tpm_limit` integer,
	`rpm_limit` integer,
	`max_parallel_requests` integer,
	`blocked` integer DEFAULT false NOT NULL,
	`team_member_permissions` text NOT NULL,
	`team_member_budget_id` text,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` integer NOT NULL,
	`created_by` text,
	`updated_at` integer NOT NULL,
	`updated_by` text
);
--> statement-breakpoint
CREATE INDEX `teams_organization_id_idx` ON `teams` (`organization_id`);--> statement-breakpoint
CREATE INDEX `teams_budget_reset_at_idx` ON `teams` (`budget_reset_at`);--> statement-breakpoint
CREATE TABLE `users` (
	`user_id` text PRIMARY KEY NOT NULL,
	`user_email` text,
	`user_alias` text,
	`user_role` text NOT NULL,
	`password_hash` text,
	`models` text NOT NULL,
	`metadata` text NOT NULL,
	`spend` real DEFAULT 0 NOT NULL,
	`max_budget` real,
	`soft_budget` real,
	`budget_duration` text,
	`budget_reset_at` integer,
	`tpm_limit` integer,
	`rpm_limit` integer,
	`max_parallel_requests` integer,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` integer NOT NULL,
	`created_by` text,
	`updated_at` integer NOT NULL,
	`updated_by` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_user_email_unique` ON `users` (lower("user_email"));--> statement-breakpoint
CREATE INDEX `users_budget_reset_at_idx` ON `users` (`budget_reset_at`);