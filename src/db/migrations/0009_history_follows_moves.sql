DROP INDEX `versions_hash`;--> statement-breakpoint
ALTER TABLE `versions` ADD `from_path` text;--> statement-breakpoint
ALTER TABLE `versions` ADD `from_version` integer;--> statement-breakpoint
CREATE INDEX `versions_hash` ON `versions` (`hash`) WHERE deleted = 0;--> statement-breakpoint
-- Moves recorded before: the feed row of each arrival names the old path; the version it left with
-- is the old path's last version before the arrival (its departure comes after it in seq).
UPDATE `versions` SET
  `from_path` = (SELECT c.`old_path` FROM `changes` c WHERE c.`root_id` = `versions`.`root_id` AND c.`seq` = `versions`.`seq`),
  `from_version` = (SELECT max(o.`version`) FROM `changes` c JOIN `versions` o ON o.`root_id` = c.`root_id` AND o.`path` = c.`old_path`
    WHERE c.`root_id` = `versions`.`root_id` AND c.`seq` = `versions`.`seq` AND o.`seq` < `versions`.`seq`)
WHERE `op` = 'move-in';--> statement-breakpoint
UPDATE `versions` SET `from_path` = NULL WHERE `op` = 'move-in' AND `from_version` IS NULL;
