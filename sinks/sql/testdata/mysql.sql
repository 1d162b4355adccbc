-- insert, 2 rows
INSERT INTO `match_results` (`match_id`, `player_id`, `score`, `settled_at`) VALUES (?, ?, ?, ?), (?, ?, ?, ?);

-- upsert, 2 rows
INSERT INTO `match_results` (`match_id`, `player_id`, `score`, `settled_at`) VALUES (?, ?, ?, ?), (?, ?, ?, ?) ON DUPLICATE KEY UPDATE `score` = VALUES(`score`), `settled_at` = VALUES(`settled_at`);

-- insert_ignore, 2 rows
INSERT INTO `match_results` (`match_id`, `player_id`, `score`, `settled_at`) VALUES (?, ?, ?, ?), (?, ?, ?, ?) ON DUPLICATE KEY UPDATE `match_id` = `match_id`;

-- upsert, every column in the key
INSERT INTO `seen` (`match_id`, `player_id`) VALUES (?, ?), (?, ?) ON DUPLICATE KEY UPDATE `match_id` = `match_id`;

-- create_table
CREATE TABLE IF NOT EXISTS `games`.`match_results` (`match_id` BIGINT, `player_id` BIGINT, `score` INT, `settled_at` TIMESTAMP, PRIMARY KEY (`match_id`, `player_id`));

-- exactly_once: positions table
CREATE TABLE IF NOT EXISTS `sluice_positions` (`pipeline` VARCHAR(128) NOT NULL, `stream` VARCHAR(512) NOT NULL, `offset` BIGINT NOT NULL, PRIMARY KEY (`pipeline`, `stream`));

-- exactly_once: create the rows of 2 streams
INSERT INTO `sluice_positions` (`pipeline`, `stream`, `offset`) VALUES (?, ?, ?), (?, ?, ?) ON DUPLICATE KEY UPDATE `offset` = `offset`;

-- exactly_once: lock them
SELECT `stream`, `offset` FROM `sluice_positions` WHERE `pipeline` = ? AND `stream` IN (?, ?) FOR UPDATE;

-- exactly_once: save 2 offsets
INSERT INTO `sluice_positions` (`pipeline`, `stream`, `offset`) VALUES (?, ?, ?), (?, ?, ?) ON DUPLICATE KEY UPDATE `offset` = VALUES(`offset`);

-- Positions
SELECT `stream`, `offset` FROM `sluice_positions` WHERE `pipeline` = ?;

-- column types
SELECT * FROM `match_results` WHERE 1 = 0;
