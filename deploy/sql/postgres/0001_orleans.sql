-- Orleans.Trade: schema and stored queries for the Orleans 10.4.2 ADO.NET
-- providers on PostgreSQL 15 (invariant "Npgsql"):
--   grain storage  (Microsoft.Orleans.Persistence.AdoNet)
--   clustering     (Microsoft.Orleans.Clustering.AdoNet)
--   reminders      (Microsoft.Orleans.Reminders.AdoNet)
--
-- The providers read every row of OrleansQuery at start-up and run the text
-- stored under each key. Parameters are bound by name (written @Name in the
-- text, Npgsql rewrites them); result columns are read by name
-- (case-insensitively) and type.
--
-- Safe to run more than once: tables and indexes use IF NOT EXISTS, functions
-- CREATE OR REPLACE, and query rows are upserted.
--
-- Parameter types as Orleans 10.4.2 binds them: int -> integer, long -> bigint,
-- string -> text, byte[] -> bytea, DateTime (UTC) -> timestamptz.

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64) NOT NULL PRIMARY KEY,
    QueryText text        NOT NULL
);


-- ===========================================================================
-- Grain storage
-- ===========================================================================
-- One row per (service, grain id, state name). The "type" that reaches the
-- queries is the state name given to [PersistentState], not the grain class.
-- Version is the ETag: a write succeeds only against the version it read.
CREATE TABLE IF NOT EXISTS OrleansStorage
(
    GrainIdHash            integer     NOT NULL,
    GrainIdN0              bigint      NOT NULL,
    GrainIdN1              bigint      NOT NULL,
    GrainTypeHash          integer     NOT NULL,
    GrainTypeString        text        NOT NULL,
    GrainIdExtensionString text        NULL,
    ServiceId              text        NOT NULL,
    PayloadBinary          bytea       NULL,
    ModifiedOn             timestamptz NOT NULL DEFAULT now(),
    Version                integer     NOT NULL
);

-- Enforces one row per identity, so two racing first writes cannot both
-- insert. The strings are indexed through md5 to keep index entries small
-- whatever the key length; a NULL extension counts as one value.
CREATE UNIQUE INDEX IF NOT EXISTS UX_OrleansStorage_Identity
    ON OrleansStorage (GrainIdHash, GrainTypeHash, GrainIdN0, GrainIdN1,
                       md5(ServiceId), md5(GrainTypeString), md5(GrainIdExtensionString))
    NULLS NOT DISTINCT;

-- Versioned write. Returns exactly one row:
--   the new version when the write was applied,
--   the caller's version unchanged (NULL for a first write) when it was not,
-- which Orleans turns into InconsistentStateException.
CREATE OR REPLACE FUNCTION orleans_storage_write(
    p_grain_id_hash   integer,
    p_grain_id_n0     bigint,
    p_grain_id_n1     bigint,
    p_grain_type_hash integer,
    p_grain_type      text,
    p_extension       text,
    p_service_id      text,
    p_version         integer,
    p_payload         bytea)
RETURNS TABLE (NewGrainStateVersion integer)
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_new integer;
BEGIN
    IF p_version IS NULL THEN
        -- First write: the grain read no row. If one exists (or a racing
        -- writer inserts it first) the unique index makes this a no-op.
        INSERT INTO OrleansStorage AS s
            (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString,
             GrainIdExtensionString, ServiceId, PayloadBinary, ModifiedOn, Version)
        VALUES
            (p_grain_id_hash, p_grain_id_n0, p_grain_id_n1, p_grain_type_hash, p_grain_type,
             p_extension, p_service_id, p_payload, now(), 1)
        ON CONFLICT DO NOTHING
        RETURNING s.Version INTO v_new;
    ELSE
        -- Later writes: only against the version the grain read. A concurrent
        -- writer holding the row makes us wait, then the re-checked version
        -- no longer matches and nothing is updated.
        UPDATE OrleansStorage AS s
        SET PayloadBinary = p_payload,
            ModifiedOn    = now(),
            Version       = s.Version + 1
        WHERE s.GrainIdHash = p_grain_id_hash
          AND s.GrainTypeHash = p_grain_type_hash
          AND s.GrainIdN0 = p_grain_id_n0
          AND s.GrainIdN1 = p_grain_id_n1
          AND s.GrainTypeString = p_grain_type
          AND s.GrainIdExtensionString IS NOT DISTINCT FROM p_extension
          AND s.ServiceId = p_service_id
          AND s.Version = p_version
        RETURNING s.Version INTO v_new;
    END IF;

    RETURN QUERY SELECT COALESCE(v_new, p_version);
END
$fn$;

-- Clear: drop the payload but keep the row and bump its version.
CREATE OR REPLACE FUNCTION orleans_storage_clear(
    p_grain_id_hash   integer,
    p_grain_id_n0     bigint,
    p_grain_id_n1     bigint,
    p_grain_type_hash integer,
    p_grain_type      text,
    p_extension       text,
    p_service_id      text,
    p_version         integer)
RETURNS TABLE (NewGrainStateVersion integer)
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_new integer;
BEGIN
    UPDATE OrleansStorage AS s
    SET PayloadBinary = NULL,
        ModifiedOn    = now(),
        Version       = s.Version + 1
    WHERE s.GrainIdHash = p_grain_id_hash
      AND s.GrainTypeHash = p_grain_type_hash
      AND s.GrainIdN0 = p_grain_id_n0
      AND s.GrainIdN1 = p_grain_id_n1
      AND s.GrainTypeString = p_grain_type
      AND s.GrainIdExtensionString IS NOT DISTINCT FROM p_extension
      AND s.ServiceId = p_service_id
      AND s.Version = p_version
    RETURNING s.Version INTO v_new;

    RETURN QUERY SELECT COALESCE(v_new, p_version);
END
$fn$;

-- Delete (DeleteStateOnClear = true): remove the row when the version still
-- matches. On success returns a value different from the caller's version
-- (Orleans then forgets the ETag); otherwise the caller's version unchanged.
CREATE OR REPLACE FUNCTION orleans_storage_delete(
    p_grain_id_hash   integer,
    p_grain_id_n0     bigint,
    p_grain_id_n1     bigint,
    p_grain_type_hash integer,
    p_grain_type      text,
    p_extension       text,
    p_service_id      text,
    p_version         integer)
RETURNS TABLE (NewGrainStateVersion integer)
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_old integer;
BEGIN
    DELETE FROM OrleansStorage AS s
    WHERE s.GrainIdHash = p_grain_id_hash
      AND s.GrainTypeHash = p_grain_type_hash
      AND s.GrainIdN0 = p_grain_id_n0
      AND s.GrainIdN1 = p_grain_id_n1
      AND s.GrainTypeString = p_grain_type
      AND s.GrainIdExtensionString IS NOT DISTINCT FROM p_extension
      AND s.ServiceId = p_service_id
      AND s.Version = p_version
    RETURNING s.Version INTO v_old;

    IF FOUND THEN
        RETURN QUERY SELECT v_old + 1;
    ELSE
        RETURN QUERY SELECT p_version;
    END IF;
END
$fn$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('ReadFromStorageKey', $q$
    SELECT PayloadBinary, ModifiedOn, Version
    FROM OrleansStorage
    WHERE GrainIdHash = @GrainIdHash
      AND GrainTypeHash = @GrainTypeHash
      AND GrainIdN0 = @GrainIdN0
      AND GrainIdN1 = @GrainIdN1
      AND GrainTypeString = @GrainTypeString
      AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
      AND ServiceId = @ServiceId;
$q$),
('WriteToStorageKey', $q$
    SELECT NewGrainStateVersion
    FROM orleans_storage_write(@GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash,
        @GrainTypeString, @GrainIdExtensionString, @ServiceId, @GrainStateVersion, @PayloadBinary);
$q$),
('ClearStorageKey', $q$
    SELECT NewGrainStateVersion
    FROM orleans_storage_clear(@GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash,
        @GrainTypeString, @GrainIdExtensionString, @ServiceId, @GrainStateVersion);
$q$),
('DeleteStorageKey', $q$
    SELECT NewGrainStateVersion
    FROM orleans_storage_delete(@GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash,
        @GrainTypeString, @GrainIdExtensionString, @ServiceId, @GrainStateVersion);
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;


-- ===========================================================================
-- Clustering
-- ===========================================================================
-- The version row is the ETag of the whole membership table of a cluster
-- (DeploymentId = ClusterId). Orleans passes @Version = the version it read;
-- an insert or update of a member succeeds only while the stored version
-- still equals @Version, and moves it to @Version + 1 in the same transaction.
CREATE TABLE IF NOT EXISTS OrleansMembershipVersionTable
(
    DeploymentId varchar(150) NOT NULL PRIMARY KEY,
    Timestamp    timestamptz  NOT NULL DEFAULT now(),
    Version      integer      NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS OrleansMembershipTable
(
    DeploymentId varchar(150) NOT NULL REFERENCES OrleansMembershipVersionTable (DeploymentId),
    Address      varchar(45)  NOT NULL,
    Port         integer      NOT NULL,
    Generation   integer      NOT NULL,
    SiloName     varchar(150) NOT NULL,
    HostName     varchar(150) NOT NULL,
    Status       integer      NOT NULL,
    ProxyPort    integer      NOT NULL DEFAULT 0,
    SuspectTimes text         NULL,
    StartTime    timestamptz  NOT NULL,
    IAmAliveTime timestamptz  NOT NULL,
    PRIMARY KEY (DeploymentId, Address, Port, Generation)
);

-- Adds a member. Every member write first locks the version row (only when
-- it still holds p_version), so membership writers are serialised and a
-- stale writer fails without changing anything. Returns 1 or 0.
CREATE OR REPLACE FUNCTION orleans_membership_insert(
    p_deployment_id  text,
    p_address        text,
    p_port           integer,
    p_generation     integer,
    p_silo_name      text,
    p_host_name      text,
    p_status         integer,
    p_proxy_port     integer,
    p_start_time     timestamptz,
    p_i_am_alive     timestamptz,
    p_version        integer)
RETURNS TABLE (Inserted integer)
LANGUAGE plpgsql
AS $fn$
BEGIN
    PERFORM 1
    FROM OrleansMembershipVersionTable
    WHERE DeploymentId = p_deployment_id AND Version = p_version
    FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 0;
        RETURN;
    END IF;

    IF EXISTS (SELECT 1 FROM OrleansMembershipTable
               WHERE DeploymentId = p_deployment_id AND Address = p_address
                 AND Port = p_port AND Generation = p_generation) THEN
        RETURN QUERY SELECT 0;
        RETURN;
    END IF;

    INSERT INTO OrleansMembershipTable
        (DeploymentId, Address, Port, Generation, SiloName, HostName, Status,
         ProxyPort, SuspectTimes, StartTime, IAmAliveTime)
    VALUES
        (p_deployment_id, p_address, p_port, p_generation, p_silo_name, p_host_name, p_status,
         COALESCE(p_proxy_port, 0), NULL, p_start_time, p_i_am_alive);

    UPDATE OrleansMembershipVersionTable
    SET Version = Version + 1, Timestamp = now()
    WHERE DeploymentId = p_deployment_id;

    RETURN QUERY SELECT 1;
END
$fn$;

-- Updates a member's status, suspicions and liveness under the same
-- version rule. IAmAliveTime never moves backwards. Returns 1 or 0.
CREATE OR REPLACE FUNCTION orleans_membership_update(
    p_deployment_id  text,
    p_address        text,
    p_port           integer,
    p_generation     integer,
    p_status         integer,
    p_suspect_times  text,
    p_i_am_alive     timestamptz,
    p_version        integer)
RETURNS TABLE (Updated integer)
LANGUAGE plpgsql
AS $fn$
BEGIN
    PERFORM 1
    FROM OrleansMembershipVersionTable
    WHERE DeploymentId = p_deployment_id AND Version = p_version
    FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 0;
        RETURN;
    END IF;

    UPDATE OrleansMembershipTable
    SET Status       = p_status,
        SuspectTimes = p_suspect_times,
        IAmAliveTime = GREATEST(IAmAliveTime, p_i_am_alive)
    WHERE DeploymentId = p_deployment_id AND Address = p_address
      AND Port = p_port AND Generation = p_generation;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 0;
        RETURN;
    END IF;

    UPDATE OrleansMembershipVersionTable
    SET Version = Version + 1, Timestamp = now()
    WHERE DeploymentId = p_deployment_id;

    RETURN QUERY SELECT 1;
END
$fn$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
-- Creates the version row (version 0) of a cluster; 1 if created, 0 if it existed.
('InsertMembershipVersionKey', $q$
    WITH created AS (
        INSERT INTO OrleansMembershipVersionTable (DeploymentId)
        VALUES (@DeploymentId)
        ON CONFLICT (DeploymentId) DO NOTHING
        RETURNING 1
    )
    SELECT count(*)::integer AS Inserted FROM created;
$q$),
('InsertMembershipKey', $q$
    SELECT Inserted
    FROM orleans_membership_insert(@DeploymentId, @Address, @Port, @Generation, @SiloName,
        @HostName, @Status, @ProxyPort, @StartTime, @IAmAliveTime, @Version);
$q$),
('UpdateMembershipKey', $q$
    SELECT Updated
    FROM orleans_membership_update(@DeploymentId, @Address, @Port, @Generation, @Status,
        @SuspectTimes, @IAmAliveTime, @Version);
$q$),
-- Heartbeat; does not touch the table version. Result not checked.
('UpdateIAmAlivetimeKey', $q$
    UPDATE OrleansMembershipTable
    SET IAmAliveTime = GREATEST(IAmAliveTime, @IAmAliveTime)
    WHERE DeploymentId = @DeploymentId AND Address = @Address
      AND Port = @Port AND Generation = @Generation;
$q$),
-- The version row always comes back (LEFT JOIN), with NULL member columns
-- when the silo has no row; Orleans reads the table version from it.
('MembershipReadRowKey', $q$
    SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName,
           m.Status, m.ProxyPort, m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
    FROM OrleansMembershipVersionTable v
    LEFT JOIN OrleansMembershipTable m
           ON m.DeploymentId = v.DeploymentId
          AND m.Address = @Address AND m.Port = @Port AND m.Generation = @Generation
    WHERE v.DeploymentId = @DeploymentId;
$q$),
('MembershipReadAllKey', $q$
    SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName,
           m.Status, m.ProxyPort, m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
    FROM OrleansMembershipVersionTable v
    LEFT JOIN OrleansMembershipTable m ON m.DeploymentId = v.DeploymentId
    WHERE v.DeploymentId = @DeploymentId;
$q$),
-- Orleans passes @Status = 3 (Active); gateways are members with a proxy port.
('GatewaysQueryKey', $q$
    SELECT Address, ProxyPort, Generation
    FROM OrleansMembershipTable
    WHERE DeploymentId = @DeploymentId AND Status = @Status AND ProxyPort > 0;
$q$),
('DeleteMembershipTableEntriesKey', $q$
    DELETE FROM OrleansMembershipTable WHERE DeploymentId = @DeploymentId;
    DELETE FROM OrleansMembershipVersionTable WHERE DeploymentId = @DeploymentId;
$q$),
-- Bulk clean-up of Dead (6) members neither started nor alive since the
-- cut-off. Only used when CleanupDefunctSiloEntryKey is absent.
('CleanupDefunctSiloEntriesKey', $q$
    DELETE FROM OrleansMembershipTable
    WHERE DeploymentId = @DeploymentId
      AND Status = 6
      AND IAmAliveTime < @IAmAliveTime
      AND StartTime < @IAmAliveTime;
$q$),
-- Optional in 10.4.2 and preferred when present: Orleans reads all members,
-- picks the defunct Dead ones itself, and deletes each one only if the row
-- still holds exactly the values it read.
('CleanupDefunctSiloEntryKey', $q$
    DELETE FROM OrleansMembershipTable
    WHERE DeploymentId = @DeploymentId
      AND Address = @Address AND Port = @Port AND Generation = @Generation
      AND Status = 6
      AND StartTime = @StartTime
      AND IAmAliveTime = @IAmAliveTime
      AND COALESCE(SuspectTimes, '') = COALESCE(@SuspectTimes, '');
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;


-- ===========================================================================
-- Reminders
-- ===========================================================================
-- GrainHash is the grain's uniform hash as a signed int; silos read the
-- slice of the hash ring they own. Period is in milliseconds. Version is the
-- reminder's ETag (0 on creation, +1 on every re-registration).
CREATE TABLE IF NOT EXISTS OrleansRemindersTable
(
    ServiceId    varchar(150) NOT NULL,
    GrainId      text         NOT NULL,
    ReminderName text         NOT NULL,
    StartTime    timestamptz  NOT NULL,
    Period       bigint       NOT NULL,
    GrainHash    integer      NOT NULL,
    Version      integer      NOT NULL,
    PRIMARY KEY (ServiceId, GrainId, ReminderName)
);

CREATE INDEX IF NOT EXISTS IX_OrleansReminders_ServiceId_GrainHash
    ON OrleansRemindersTable (ServiceId, GrainHash);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
-- Single atomic upsert; returns the reminder's new version.
('UpsertReminderRowKey', $q$
    INSERT INTO OrleansRemindersTable AS r
        (ServiceId, GrainId, ReminderName, StartTime, Period, GrainHash, Version)
    VALUES
        (@ServiceId, @GrainId, @ReminderName, @StartTime, CAST(@Period AS bigint), @GrainHash, 0)
    ON CONFLICT (ServiceId, GrainId, ReminderName) DO UPDATE
    SET StartTime = EXCLUDED.StartTime,
        Period    = EXCLUDED.Period,
        GrainHash = EXCLUDED.GrainHash,
        Version   = r.Version + 1
    RETURNING r.Version AS Version;
$q$),
('ReadReminderRowsKey', $q$
    SELECT GrainId, ReminderName, StartTime, Period, Version
    FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId AND GrainId = @GrainId;
$q$),
('ReadReminderRowKey', $q$
    SELECT GrainId, ReminderName, StartTime, Period, Version
    FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId AND GrainId = @GrainId AND ReminderName = @ReminderName;
$q$),
-- Range that does not wrap: (BeginHash, EndHash].
('ReadRangeRows1Key', $q$
    SELECT GrainId, ReminderName, StartTime, Period, Version
    FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId
      AND GrainHash > @BeginHash AND GrainHash <= @EndHash;
$q$),
-- Range that wraps around the ring: (BeginHash, max] plus [min, EndHash].
('ReadRangeRows2Key', $q$
    SELECT GrainId, ReminderName, StartTime, Period, Version
    FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId
      AND (GrainHash > @BeginHash OR GrainHash <= @EndHash);
$q$),
-- 1 if the row was deleted (its version matched), else 0.
('DeleteReminderRowKey', $q$
    WITH removed AS (
        DELETE FROM OrleansRemindersTable
        WHERE ServiceId = @ServiceId AND GrainId = @GrainId
          AND ReminderName = @ReminderName AND Version = @Version
        RETURNING 1
    )
    SELECT count(*)::integer AS Deleted FROM removed;
$q$),
('DeleteReminderRowsKey', $q$
    DELETE FROM OrleansRemindersTable WHERE ServiceId = @ServiceId;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
