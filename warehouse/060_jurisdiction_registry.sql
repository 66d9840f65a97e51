-- One jurisdiction registry, one id scheme (issue 18). The DOJ tagger used ids of its own
-- ('il-chicago', mirrored by hand in 011) beside the query model's (place:1714000, 023). The
-- registry is now warehouse/views/05_jurisdictions.sql, re-applied on every migrate like the
-- views, and read by the tagger itself; the tables 011 and 023 filled by hand make way for
-- its views of the same names (jurisdiction_relations and policy_events stay tables).
-- DOJ mentions already stored get the registry's ids: each old id below is the jurisdiction
-- that 011 listed under the same name as the registry's doj_name.

DROP TABLE IF EXISTS us_doj_jurisdictions;
DROP TABLE IF EXISTS jurisdiction_aliases;
DROP TABLE IF EXISTS jurisdictions;

CREATE TEMPORARY TABLE doj_jurisdiction_ids AS
SELECT * FROM (VALUES
    ('ca', 'state:CA'),
    ('ct', 'state:CT'),
    ('fl', 'state:FL'),
    ('il', 'state:IL'),
    ('nv', 'state:NV'),
    ('ny', 'state:NY'),
    ('or', 'state:OR'),
    ('vt', 'state:VT'),
    ('wi', 'state:WI'),
    ('il-cook-county', 'county:17031'),
    ('fl-miami-dade-county', 'county:12086'),
    ('nv-clark-county', 'county:32003'),
    ('wi-milwaukee-county', 'county:55079'),
    ('nm-bernalillo-county', 'county:35001'),
    ('ny-westchester-county', 'county:36119'),
    ('ca-san-francisco', 'county:06075'),
    ('co-denver', 'county:08031'),
    ('il-chicago', 'place:1714000'),
    ('la-new-orleans', 'place:2255000'),
    ('ny-new-york-city', 'place:3651000'),
    ('pa-philadelphia', 'place:4260000'),
    ('md-baltimore', 'place:2404000'),
    ('nm-albuquerque', 'place:3502000'),
    ('ca-stockton', 'place:0675000'),
    ('ca-san-bernardino', 'place:0665000'),
    ('ca-los-angeles', 'place:0644000'),
    ('fl-miami', 'place:1245000'),
    ('mi-lansing', 'place:2646000'),
    ('wa-seattle', 'place:5363000')
) AS m(old_id, new_id);

UPDATE us_doj_release_jurisdictions_versions v SET jurisdiction_id = m.new_id
FROM doj_jurisdiction_ids m WHERE v.jurisdiction_id = m.old_id;

UPDATE us_doj_speech_jurisdictions_versions v SET jurisdiction_id = m.new_id
FROM doj_jurisdiction_ids m WHERE v.jurisdiction_id = m.old_id;

DROP TABLE doj_jurisdiction_ids;

-- The rewritten rows' record hashes are re-computed before anything loads (warehouse.migrate
-- re-hashes every versioned table when the stored scheme is not the current one), so the
-- next load of those documents does not take the new ids for a change.
CREATE TABLE IF NOT EXISTS schema_record_hash (scheme VARCHAR);
DELETE FROM schema_record_hash;
