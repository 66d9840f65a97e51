-- DOJ documents about sanctuary jurisdictions and whom they name, now and as of a time.
-- Re-applied on every migrate (warehouse.migrate): edit the definition here, once; it
-- holds no data, so it needs no numbered file.

-- Sanctuary-related documents (releases and speeches) and every jurisdiction each names, with
-- the sentence or list item and the list's lead line ("may violate", "no evidence", ...).
CREATE OR REPLACE VIEW us_doj_sanctuary_mentions AS
WITH docs AS (
    SELECT 'release' AS kind, uuid AS doc_id, release_date, title, url
    FROM us_doj_press_releases_versions WHERE valid_to IS NULL AND sanctuary_related
    UNION ALL
    SELECT 'speech', url, release_date, title, url
    FROM us_doj_speeches_versions WHERE valid_to IS NULL AND sanctuary_related
), mentions AS (
    SELECT doc_id, ordinal, jurisdiction_id, matched, context, context_kind, list_lead
    FROM us_doj_release_jurisdictions_versions WHERE valid_to IS NULL
    UNION ALL
    SELECT doc_id, ordinal, jurisdiction_id, matched, context, context_kind, list_lead
    FROM us_doj_speech_jurisdictions_versions WHERE valid_to IS NULL
)
SELECT d.kind, d.doc_id, d.release_date, d.title, d.url, m.ordinal, m.jurisdiction_id,
       j.name AS jurisdiction, j.kind AS jurisdiction_kind, m.matched, m.context,
       m.context_kind, m.list_lead
FROM docs d JOIN mentions m USING (doc_id) JOIN us_doj_jurisdictions j USING (jurisdiction_id);

-- us_doj_sanctuary_mentions (011) as the documents said at time ts, for --known-on.
CREATE OR REPLACE MACRO us_doj_sanctuary_mentions_as_of(ts) AS TABLE
WITH docs AS (
    SELECT 'release' AS kind, uuid AS doc_id, release_date, title, url
    FROM us_doj_press_releases_as_of(ts) WHERE sanctuary_related
    UNION ALL
    SELECT 'speech', url, release_date, title, url
    FROM us_doj_speeches_as_of(ts) WHERE sanctuary_related
), mentions AS (
    SELECT doc_id, ordinal, jurisdiction_id, matched, context, context_kind, list_lead
    FROM us_doj_release_jurisdictions_as_of(ts)
    UNION ALL
    SELECT doc_id, ordinal, jurisdiction_id, matched, context, context_kind, list_lead
    FROM us_doj_speech_jurisdictions_as_of(ts)
)
SELECT d.kind, d.doc_id, d.release_date, d.title, d.url, m.ordinal, m.jurisdiction_id,
       j.name AS jurisdiction, j.kind AS jurisdiction_kind, m.matched, m.context,
       m.context_kind, m.list_lead
FROM docs d JOIN mentions m USING (doc_id) JOIN us_doj_jurisdictions j USING (jurisdiction_id);

-- A release by its number (secondary key; may match none or, for odd numbers, several).
CREATE OR REPLACE MACRO us_doj_release_by_number(n) AS TABLE
SELECT * FROM us_doj_press_releases_versions WHERE valid_to IS NULL AND release_number = n;
