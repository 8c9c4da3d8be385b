DROP INDEX `versions_hash`;--> statement-breakpoint
CREATE INDEX `versions_moved_from` ON `versions` (`root_id`,`from_path`,`from_version`) WHERE from_path IS NOT NULL;--> statement-breakpoint
CREATE INDEX `versions_hash` ON `versions` (`hash`) WHERE deleted = 0 AND from_path IS NULL;