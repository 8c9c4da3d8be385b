CREATE TABLE `api_tokens` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`user_id` integer NOT NULL,
	`name` text NOT NULL,
	`token_hash` text NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`last_used_at` integer,
	`revoked_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_token_hash_unique` ON `api_tokens` (`token_hash`);--> statement-breakpoint
CREATE INDEX `api_tokens_user` ON `api_tokens` (`user_id`);--> statement-breakpoint
CREATE TABLE `devices` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`uuid` text NOT NULL,
	`user_id` integer NOT NULL,
	`name` text NOT NULL,
	`token_hash` text,
	`last_address` text,
	`last_seen_at` integer,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`revoked_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `devices_token_hash_unique` ON `devices` (`token_hash`);--> statement-breakpoint
CREATE UNIQUE INDEX `devices_user_uuid` ON `devices` (`user_id`,`uuid`);--> statement-breakpoint
CREATE TABLE `login_sessions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`user_id` integer NOT NULL,
	`token_hash` text NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`expires_at` integer NOT NULL,
	`last_address` text,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `login_sessions_token_hash_unique` ON `login_sessions` (`token_hash`);--> statement-breakpoint
CREATE TABLE `users` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`password_hash` text NOT NULL,
	`is_admin` integer DEFAULT false NOT NULL,
	`disabled` integer DEFAULT false NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_name_unique` ON `users` (`name`);--> statement-breakpoint
CREATE TABLE `grants` (
	`root_id` integer NOT NULL,
	`user_id` integer NOT NULL,
	`mode` text NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	PRIMARY KEY(`root_id`, `user_id`),
	FOREIGN KEY (`root_id`) REFERENCES `roots`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `roots` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`dir` text NOT NULL,
	`owner_id` integer,
	`retention` text DEFAULT '{"mode":"all"}' NOT NULL,
	`seq` integer DEFAULT 0 NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `roots_name_unique` ON `roots` (`name`);--> statement-breakpoint
CREATE TABLE `changes` (
	`root_id` integer NOT NULL,
	`seq` integer NOT NULL,
	`path` text NOT NULL,
	`op` text NOT NULL,
	`kind` text NOT NULL,
	`version` integer NOT NULL,
	`deleted` integer DEFAULT false NOT NULL,
	`hash` text DEFAULT '' NOT NULL,
	`size` integer DEFAULT 0 NOT NULL,
	`mtime_ms` integer NOT NULL,
	`old_path` text,
	`protocol` text NOT NULL,
	`user_name` text NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	PRIMARY KEY(`root_id`, `seq`),
	FOREIGN KEY (`root_id`) REFERENCES `roots`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `conflicts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`root_id` integer NOT NULL,
	`path` text NOT NULL,
	`copy_path` text NOT NULL,
	`base_version` integer NOT NULL,
	`server_version` integer NOT NULL,
	`incoming_hash` text NOT NULL,
	`device_name` text NOT NULL,
	`user_name` text NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`resolved_at` integer,
	`resolution` text,
	FOREIGN KEY (`root_id`) REFERENCES `roots`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `conflicts_root` ON `conflicts` (`root_id`,`resolved_at`);--> statement-breakpoint
CREATE TABLE `entries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`root_id` integer NOT NULL,
	`path` text NOT NULL,
	`parent` text NOT NULL,
	`name` text NOT NULL,
	`kind` text NOT NULL,
	`size` integer DEFAULT 0 NOT NULL,
	`mtime_ms` integer NOT NULL,
	`hash` text DEFAULT '' NOT NULL,
	`version` integer NOT NULL,
	`deleted` integer DEFAULT false NOT NULL,
	`seq` integer NOT NULL,
	`ino` integer DEFAULT 0 NOT NULL,
	`changed_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`root_id`) REFERENCES `roots`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `entries_root_path` ON `entries` (`root_id`,`path`);--> statement-breakpoint
CREATE INDEX `entries_root_parent` ON `entries` (`root_id`,`parent`,`deleted`);--> statement-breakpoint
CREATE INDEX `entries_hash` ON `entries` (`hash`);--> statement-breakpoint
CREATE TABLE `versions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`root_id` integer NOT NULL,
	`path` text NOT NULL,
	`version` integer NOT NULL,
	`seq` integer NOT NULL,
	`op` text NOT NULL,
	`kind` text NOT NULL,
	`deleted` integer DEFAULT false NOT NULL,
	`hash` text DEFAULT '' NOT NULL,
	`size` integer DEFAULT 0 NOT NULL,
	`mtime_ms` integer NOT NULL,
	`user_id` integer,
	`user_name` text NOT NULL,
	`device_id` integer,
	`device_name` text,
	`protocol` text NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`content_gone` integer DEFAULT false NOT NULL,
	FOREIGN KEY (`root_id`) REFERENCES `roots`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `versions_root_path_version` ON `versions` (`root_id`,`path`,`version`);--> statement-breakpoint
CREATE INDEX `versions_hash` ON `versions` (`hash`);--> statement-breakpoint
CREATE TABLE `locks` (
	`token` text PRIMARY KEY NOT NULL,
	`root_id` integer NOT NULL,
	`path` text NOT NULL,
	`depth` text NOT NULL,
	`scope` text NOT NULL,
	`user_id` integer NOT NULL,
	`owner` text DEFAULT '' NOT NULL,
	`timeout_sec` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`root_id`) REFERENCES `roots`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `locks_root_path` ON `locks` (`root_id`,`path`);--> statement-breakpoint
CREATE TABLE `properties` (
	`root_id` integer NOT NULL,
	`path` text NOT NULL,
	`namespace` text NOT NULL,
	`name` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`root_id`, `path`, `namespace`, `name`),
	FOREIGN KEY (`root_id`) REFERENCES `roots`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `share_accesses` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`share_id` integer NOT NULL,
	`at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`action` text NOT NULL,
	`address` text,
	`user_agent` text,
	`bytes` integer DEFAULT 0 NOT NULL,
	`path` text,
	FOREIGN KEY (`share_id`) REFERENCES `share_links`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `share_accesses_share` ON `share_accesses` (`share_id`);--> statement-breakpoint
CREATE TABLE `share_links` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`token_hash` text NOT NULL,
	`root_id` integer NOT NULL,
	`path` text NOT NULL,
	`kind` text NOT NULL,
	`created_by` integer NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`expires_at` integer,
	`password_hash` text,
	`max_downloads` integer,
	`downloads` integer DEFAULT 0 NOT NULL,
	`upload_only` integer DEFAULT false NOT NULL,
	`revoked_at` integer,
	FOREIGN KEY (`root_id`) REFERENCES `roots`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `share_links_token_hash_unique` ON `share_links` (`token_hash`);--> statement-breakpoint
CREATE TABLE `uploads` (
	`id` text PRIMARY KEY NOT NULL,
	`root_id` integer NOT NULL,
	`path` text NOT NULL,
	`user_id` integer NOT NULL,
	`length` integer,
	`offset` integer DEFAULT 0 NOT NULL,
	`base_version` integer,
	`mtime_ms` integer,
	`metadata` text DEFAULT '{}' NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`root_id`) REFERENCES `roots`(`id`) ON UPDATE no action ON DELETE cascade
);
