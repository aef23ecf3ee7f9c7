-- erpstream demo ERP on SQL Server 2022: CRM-style tables, a trigger-fed change table (erp.change_log) and
-- SQL Server Change Tracking on the database and every table. Run once by entrypoint.sh (sqlcmd -b -i init.sql).
SET NOCOUNT ON;
GO
IF DB_ID('erp') IS NULL CREATE DATABASE erp;
GO
IF NOT EXISTS (SELECT 1 FROM sys.change_tracking_databases WHERE database_id = DB_ID('erp'))
  ALTER DATABASE erp SET CHANGE_TRACKING = ON (CHANGE_RETENTION = 2 DAYS, AUTO_CLEANUP = ON);
GO
-- row versioning keeps the pollers' reads from blocking the ERP's writers
ALTER DATABASE erp SET ALLOW_SNAPSHOT_ISOLATION ON;
GO
ALTER DATABASE erp SET READ_COMMITTED_SNAPSHOT ON WITH ROLLBACK IMMEDIATE;
GO
USE erp;
GO
IF SCHEMA_ID('erp') IS NULL EXEC('CREATE SCHEMA erp');
GO

-- ---------------------------------------------------------------------------------------------- base tables
CREATE TABLE erp.persons (
  PERS_ID     bigint IDENTITY(1,1) NOT NULL CONSTRAINT PK_persons PRIMARY KEY,
  FIRST_NM    nvarchar(100) NULL,
  LAST_NM     nvarchar(100) NOT NULL,
  Z_CUST_CD   char(8) NULL,            -- blank-padded customer code; '        ' means "none"
  EMAIL_ADDR  varchar(254) NULL,
  dtUpdt      datetime2(6) NOT NULL CONSTRAINT DF_persons_dtUpdt DEFAULT SYSUTCDATETIME(),
  rv          rowversion
);

CREATE TABLE erp.phones (
  PHONE_ID      bigint IDENTITY(1,1) NOT NULL CONSTRAINT PK_phones PRIMARY KEY,
  PERS_ID       bigint NOT NULL CONSTRAINT FK_phones_persons REFERENCES erp.persons (PERS_ID),
  PHONE_NO      varchar(30) NOT NULL,
  PHONE_TYPE_CD char(1) NOT NULL,      -- M mobile, W work, H home (translated by a code table downstream)
  dtUpdt        datetime2(6) NOT NULL CONSTRAINT DF_phones_dtUpdt DEFAULT SYSUTCDATETIME(),
  rv            rowversion
);

CREATE TABLE erp.shipments (
  SHPMT_ID    bigint IDENTITY(1,1) NOT NULL CONSTRAINT PK_shipments PRIMARY KEY,
  SHPMT_NO    varchar(20) NOT NULL CONSTRAINT UQ_shipments_no UNIQUE,
  Z_CUST_CD   char(8) NOT NULL,
  CONSIGNEE_ID bigint NULL CONSTRAINT FK_shipments_persons REFERENCES erp.persons (PERS_ID),
  STATUS_CD   char(2) NOT NULL,        -- 01 booked, 02 picked up, 03 in transit, 04 delivered, 99 cancelled
  WEIGHT_KG   decimal(19,4) NULL,
  FREIGHT_AMT decimal(19,4) NULL,
  CURRENCY_CD char(3) NULL,
  PICKUP_DT   datetime2(6) NULL,
  dtUpdt      datetime2(6) NOT NULL CONSTRAINT DF_shipments_dtUpdt DEFAULT SYSUTCDATETIME(),
  rv          rowversion
);

CREATE TABLE erp.documents (
  DOC_ID      bigint IDENTITY(1,1) NOT NULL CONSTRAINT PK_documents PRIMARY KEY,
  SHPMT_ID    bigint NULL CONSTRAINT FK_documents_shipments REFERENCES erp.shipments (SHPMT_ID),
  DOC_TYPE_CD char(3) NOT NULL,        -- POD proof of delivery, INV invoice, CMR consignment note
  FILE_NM     nvarchar(260) NOT NULL,
  CONTENT     varbinary(max) NULL,
  dtUpdt      datetime2(6) NOT NULL CONSTRAINT DF_documents_dtUpdt DEFAULT SYSUTCDATETIME(),
  rv          rowversion
);

-- A document becomes dispatchable to a customer domain only once it is registered here (the ordering race).
CREATE TABLE erp.document_domain (
  DOC_ID        bigint NOT NULL CONSTRAINT FK_document_domain_documents REFERENCES erp.documents (DOC_ID),
  DOMAIN_CD     varchar(20) NOT NULL,
  REGISTERED_DT datetime2(6) NOT NULL CONSTRAINT DF_document_domain_reg DEFAULT SYSUTCDATETIME(),
  rv            rowversion,
  CONSTRAINT PK_document_domain PRIMARY KEY (DOC_ID, DOMAIN_CD)
);
GO

-- ----------------------------------------------------------------------------------------------- change table
CREATE TABLE erp.change_log (
  seq        bigint IDENTITY(1,1) NOT NULL CONSTRAINT PK_change_log PRIMARY KEY,
  table_name sysname NOT NULL,
  record_id  nvarchar(200) NOT NULL,
  op         char(1) NOT NULL CONSTRAINT CK_change_log_op CHECK (op IN ('I', 'U', 'D')),
  changed_at datetime2(6) NOT NULL CONSTRAINT DF_change_log_changed_at DEFAULT SYSUTCDATETIME()
);
CREATE INDEX IX_change_log_table_seq ON erp.change_log (table_name, seq);
GO

CREATE TRIGGER erp.trg_persons_change_log ON erp.persons AFTER INSERT, UPDATE, DELETE AS
BEGIN
  SET NOCOUNT ON;
  INSERT INTO erp.change_log (table_name, record_id, op)
  SELECT 'persons', CAST(COALESCE(i.PERS_ID, d.PERS_ID) AS nvarchar(200)),
         CASE WHEN i.PERS_ID IS NOT NULL AND d.PERS_ID IS NOT NULL THEN 'U' WHEN i.PERS_ID IS NOT NULL THEN 'I' ELSE 'D' END
  FROM inserted i FULL OUTER JOIN deleted d ON i.PERS_ID = d.PERS_ID;
END;
GO
CREATE TRIGGER erp.trg_phones_change_log ON erp.phones AFTER INSERT, UPDATE, DELETE AS
BEGIN
  SET NOCOUNT ON;
  INSERT INTO erp.change_log (table_name, record_id, op)
  SELECT 'phones', CAST(COALESCE(i.PHONE_ID, d.PHONE_ID) AS nvarchar(200)),
         CASE WHEN i.PHONE_ID IS NOT NULL AND d.PHONE_ID IS NOT NULL THEN 'U' WHEN i.PHONE_ID IS NOT NULL THEN 'I' ELSE 'D' END
  FROM inserted i FULL OUTER JOIN deleted d ON i.PHONE_ID = d.PHONE_ID;
END;
GO
CREATE TRIGGER erp.trg_shipments_change_log ON erp.shipments AFTER INSERT, UPDATE, DELETE AS
BEGIN
  SET NOCOUNT ON;
  INSERT INTO erp.change_log (table_name, record_id, op)
  SELECT 'shipments', CAST(COALESCE(i.SHPMT_ID, d.SHPMT_ID) AS nvarchar(200)),
         CASE WHEN i.SHPMT_ID IS NOT NULL AND d.SHPMT_ID IS NOT NULL THEN 'U' WHEN i.SHPMT_ID IS NOT NULL THEN 'I' ELSE 'D' END
  FROM inserted i FULL OUTER JOIN deleted d ON i.SHPMT_ID = d.SHPMT_ID;
END;
GO
CREATE TRIGGER erp.trg_documents_change_log ON erp.documents AFTER INSERT, UPDATE, DELETE AS
BEGIN
  SET NOCOUNT ON;
  INSERT INTO erp.change_log (table_name, record_id, op)
  SELECT 'documents', CAST(COALESCE(i.DOC_ID, d.DOC_ID) AS nvarchar(200)),
         CASE WHEN i.DOC_ID IS NOT NULL AND d.DOC_ID IS NOT NULL THEN 'U' WHEN i.DOC_ID IS NOT NULL THEN 'I' ELSE 'D' END
  FROM inserted i FULL OUTER JOIN deleted d ON i.DOC_ID = d.DOC_ID;
END;
GO
-- composite key: record_id is 'DOC_ID|DOMAIN_CD'
CREATE TRIGGER erp.trg_document_domain_change_log ON erp.document_domain AFTER INSERT, UPDATE, DELETE AS
BEGIN
  SET NOCOUNT ON;
  INSERT INTO erp.change_log (table_name, record_id, op)
  SELECT 'document_domain',
         CONCAT(COALESCE(i.DOC_ID, d.DOC_ID), '|', COALESCE(i.DOMAIN_CD, d.DOMAIN_CD)),
         CASE WHEN i.DOC_ID IS NOT NULL AND d.DOC_ID IS NOT NULL THEN 'U' WHEN i.DOC_ID IS NOT NULL THEN 'I' ELSE 'D' END
  FROM inserted i FULL OUTER JOIN deleted d ON i.DOC_ID = d.DOC_ID AND i.DOMAIN_CD = d.DOMAIN_CD;
END;
GO

-- ------------------------------------------------------------------------------------------- change tracking
ALTER TABLE erp.persons ENABLE CHANGE_TRACKING WITH (TRACK_COLUMNS_UPDATED = ON);
ALTER TABLE erp.phones ENABLE CHANGE_TRACKING WITH (TRACK_COLUMNS_UPDATED = ON);
ALTER TABLE erp.shipments ENABLE CHANGE_TRACKING WITH (TRACK_COLUMNS_UPDATED = ON);
ALTER TABLE erp.documents ENABLE CHANGE_TRACKING WITH (TRACK_COLUMNS_UPDATED = ON);
ALTER TABLE erp.document_domain ENABLE CHANGE_TRACKING WITH (TRACK_COLUMNS_UPDATED = ON);
GO

-- ------------------------------------------------------------------------------------------------ demo rows
INSERT INTO erp.persons (FIRST_NM, LAST_NM, Z_CUST_CD, EMAIL_ADDR) VALUES
  (N'Anna', N'Müller', 'ACME0001', 'anna.mueller@example.com'),
  (N'Kenji', N'田中', 'GLOBX002', NULL),
  (N'', N'Dispatch Desk', '        ', 'dispatch@example.com');
INSERT INTO erp.phones (PERS_ID, PHONE_NO, PHONE_TYPE_CD) VALUES
  (1, '+41 44 000 00 01', 'M'), (1, '+41 44 000 00 02', 'W'), (2, '+81 3 0000 0000', 'W');
INSERT INTO erp.shipments (SHPMT_NO, Z_CUST_CD, CONSIGNEE_ID, STATUS_CD, WEIGHT_KG, FREIGHT_AMT, CURRENCY_CD, PICKUP_DT)
VALUES
  ('SHP-000001', 'ACME0001', 1, '01', 1250.5000, 12345678901234.5678, 'CHF', '2024-02-29T08:15:00.123456'),
  ('SHP-000002', 'GLOBX002', 2, '03', 12.0000, 99.9500, 'JPY', NULL);
INSERT INTO erp.documents (SHPMT_ID, DOC_TYPE_CD, FILE_NM, CONTENT) VALUES
  (1, 'CMR', N'cmr-SHP-000001.pdf', 0x255044462D00FF),
  (2, 'INV', N'invoice-SHP-000002.pdf', NULL);
INSERT INTO erp.document_domain (DOC_ID, DOMAIN_CD) VALUES (1, 'acme');
GO
PRINT 'erpstream demo ERP ready';
GO
