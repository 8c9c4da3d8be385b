DROP INDEX `entries_root_parent_name`;--> statement-breakpoint
CREATE INDEX `entries_root_parent_name` ON `entries` (`root_id`,`parent`,`deleted`,`name`) WHERE deleted = 0;