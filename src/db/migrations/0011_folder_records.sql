ALTER TABLE `changes` ADD `span` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE `changes` ADD `versions_from` integer;