-- 0011: optimistic saves of releases and runbooks. `revision` is raised by every write of the row;
-- an edit is written only if the row still has the revision it was read at (repo/releases.cc,
-- repo/runbooks.cc), so an edit made in between is refused rather than overwritten. (Not named
-- `version`: a release's version is its version number.)
ALTER TABLE releases ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
ALTER TABLE runbooks ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
