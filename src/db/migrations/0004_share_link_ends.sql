ALTER TABLE `share_links` ADD `ended_at` integer;--> statement-breakpoint
CREATE INDEX `share_links_root_path` ON `share_links` (`root_id`,`path`);