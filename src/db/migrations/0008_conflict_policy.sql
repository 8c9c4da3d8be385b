ALTER TABLE `roots` ADD `conflict_policy` text DEFAULT 'keep-both' NOT NULL;--> statement-breakpoint
ALTER TABLE `conflicts` ADD `policy` text DEFAULT 'keep-both' NOT NULL;--> statement-breakpoint
ALTER TABLE `conflicts` ADD `kept` text DEFAULT 'server' NOT NULL;--> statement-breakpoint
-- Records made before policies existed: an edit of a deleted file brought it back (the incoming side).
UPDATE `conflicts` SET `kept` = 'incoming' WHERE `kind` = 'edit-delete';