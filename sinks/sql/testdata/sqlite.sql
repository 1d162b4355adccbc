-- insert, 2 rows
INSERT INTO "match_results" ("match_id", "player_id", "score", "settled_at") VALUES (?, ?, ?, ?), (?, ?, ?, ?);

-- upsert, 2 rows
INSERT INTO "match_results" ("match_id", "player_id", "score", "settled_at") VALUES (?, ?, ?, ?), (?, ?, ?, ?) ON CONFLICT ("match_id", "player_id") DO UPDATE SET "score" = excluded."score", "settled_at" = excluded."settled_at";

-- insert_ignore, 2 rows
INSERT INTO "match_results" ("match_id", "player_id", "score", "settled_at") VALUES (?, ?, ?, ?), (?, ?, ?, ?) ON CONFLICT DO NOTHING;

-- upsert, every column in the key
INSERT INTO "seen" ("match_id", "player_id") VALUES (?, ?), (?, ?) ON CONFLICT ("match_id", "player_id") DO NOTHING;

-- create_table
CREATE TABLE IF NOT EXISTS "games"."match_results" ("match_id" BIGINT, "player_id" BIGINT, "score" INT, "settled_at" TIMESTAMP, PRIMARY KEY ("match_id", "player_id"));

-- exactly_once: positions table
CREATE TABLE IF NOT EXISTS "sluice_positions" ("pipeline" TEXT NOT NULL, "stream" TEXT NOT NULL, "offset" BIGINT NOT NULL, PRIMARY KEY ("pipeline", "stream"));

-- exactly_once: create the rows of 2 streams
INSERT INTO "sluice_positions" ("pipeline", "stream", "offset") VALUES (?, ?, ?), (?, ?, ?) ON CONFLICT DO NOTHING;

-- exactly_once: lock them
SELECT "stream", "offset" FROM "sluice_positions" WHERE "pipeline" = ? AND "stream" IN (?, ?);

-- exactly_once: save 2 offsets
INSERT INTO "sluice_positions" ("pipeline", "stream", "offset") VALUES (?, ?, ?), (?, ?, ?) ON CONFLICT ("pipeline", "stream") DO UPDATE SET "offset" = excluded."offset";

-- Positions
SELECT "stream", "offset" FROM "sluice_positions" WHERE "pipeline" = ?;

-- column types
SELECT * FROM "match_results" WHERE 1 = 0;
