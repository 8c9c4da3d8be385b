PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_entries` (
	`id` integer PRIMARY KEY NOT NULL,
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
	`ctime_ms` integer DEFAULT 0 NOT NULL,
	`changed_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`root_id`) REFERENCES `roots`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_entries`("id", "root_id", "path", "parent", "name", "kind", "size", "mtime_ms", "hash", "version", "deleted", "seq", "ino", "ctime_ms", "changed_at") SELECT "id", "root_id", "path", "parent", "name", "kind", "size", "mtime_ms", "hash", "version", "deleted", "seq", "ino", "ctime_ms", "changed_at" FROM `entries`;--> statement-breakpoint
DROP TABLE `entries`;--> statement-breakpoint
ALTER TABLE `__new_entries` RENAME TO `entries`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE UNIQUE INDEX `entries_root_path` ON `entries` (`root_id`,`path`);--> statement-breakpoint
CREATE INDEX `entries_root_parent_name` ON `entries` (`root_id`,`parent`,`deleted`,`name`);--> statement-breakpoint
CREATE TABLE `__new_versions` (
	`id` integer PRIMARY KEY NOT NULL,
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
INSERT INTO `__new_versions`("id", "root_id", "path", "version", "seq", "op", "kind", "deleted", "hash", "size", "mtime_ms", "user_id", "user_name", "device_id", "device_name", "protocol", "created_at", "content_gone") SELECT "id", "root_id", "path", "version", "seq", "op", "kind", "deleted", "hash", "size", "mtime_ms", "user_id", "user_name", "device_id", "device_name", "protocol", "created_at", "content_gone" FROM `versions`;--> statement-breakpoint
DROP TABLE `versions`;--> statement-breakpoint
ALTER TABLE `__new_versions` RENAME TO `versions`;--> statement-breakpoint
CREATE UNIQUE INDEX `versions_root_path_version` ON `versions` (`root_id`,`path`,`version`);--> statement-breakpoint
CREATE INDEX `versions_hash` ON `versions` (`hash`);--> statement-breakpoint
ALTER TABLE `roots` DROP COLUMN `seq`;--> statement-breakpoint
-- Written by hand (drizzle cannot express WITHOUT ROWID): the change feed's rows live in their
-- primary key, so a change writes one B-tree instead of a table plus its key index.
CREATE TABLE `__new_changes` (
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
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `__new_changes` SELECT `root_id`, `seq`, `path`, `op`, `kind`, `version`, `deleted`, `hash`, `size`, `mtime_ms`, `old_path`, `protocol`, `user_name`, `created_at` FROM `changes`;--> statement-breakpoint
DROP TABLE `changes`;--> statement-breakpoint
ALTER TABLE `__new_changes` RENAME TO `changes`;