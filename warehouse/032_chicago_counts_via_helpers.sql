-- chicago_homicide_victims (003) now answers through the general helper incident_count, so the
-- SQL shortcut and the Python helpers cannot drift apart.
CREATE OR REPLACE MACRO chicago_homicide_victims(start_local, end_local, which) AS (
    SELECT n FROM incident_count('agency:ILCPD0000', which, start_local, end_local, 'infinity')
);
