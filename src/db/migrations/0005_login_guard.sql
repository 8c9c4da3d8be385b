CREATE TABLE `login_failures` (
	`key` text PRIMARY KEY NOT NULL,
	`failures` integer NOT NULL,
	`first_at` integer NOT NULL,
	`banned_until` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
ALTER TABLE `login_sessions` ADD `last_seen_at` integer;