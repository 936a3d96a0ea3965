CREATE TABLE `settled_requests` (
	`request_id` text PRIMARY KEY NOT NULL,
	`settled_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `settled_requests_settled_at_idx` ON `settled_requests` (`settled_at`);--> statement-breakpoint
CREATE INDEX `daily_spend_entity_type_date_idx` ON `daily_spend` (`entity_type`,`date`);