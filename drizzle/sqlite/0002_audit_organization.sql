ALTER TABLE `audit_log` ADD `organization_id` text;--> statement-breakpoint
CREATE INDEX `audit_log_organization_idx` ON `audit_log` (`organization_id`,`changed_at`);