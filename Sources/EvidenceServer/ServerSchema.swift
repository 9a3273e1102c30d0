/// The evidence server's PostgreSQL schema (DESIGN §22), as numbered migrations that
/// `exhibit server` applies at start and records in `schema_migrations`.
///
/// The ledger table is append-only in the database itself: a trigger refuses every
/// UPDATE, DELETE and TRUNCATE, and another refuses an entry whose `prev` is not the
/// previous row's `hash` (or 64 zeros for seq 1), so not even a faulty server can
/// rewrite or fork a case's history.
enum ServerSchema {
    struct Migration: Sendable {
        var version: Int
        var description: String
        var statements: [String]
    }

    static let migrations: [Migration] = [
        Migration(version: 1, description: "actors, cases, append-only ledger, files, page text, signatures seen, receipts", statements: [
            """
            CREATE TABLE actors (
                id text PRIMARY KEY,
                public_key text NOT NULL,
                roles text[] NOT NULL,
                record jsonb NOT NULL,
                trust text NOT NULL,
                registered_by text,
                registered_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            """
            CREATE TABLE cases (
                id text PRIMARY KEY,
                entry_count bigint NOT NULL,
                head text NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            """
            CREATE TABLE ledger_entries (
                case_id text NOT NULL REFERENCES cases(id),
                seq bigint NOT NULL CHECK (seq >= 1),
                hash text NOT NULL,
                prev text NOT NULL,
                actor text NOT NULL REFERENCES actors(id),
                action text NOT NULL,
                time text NOT NULL,
                line text NOT NULL,
                PRIMARY KEY (case_id, seq)
            )
            """,
            """
            CREATE FUNCTION exhibit_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'ledger entries are append-only: % refused', TG_OP;
            END
            $$
            """,
            "CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries FOR EACH ROW EXECUTE FUNCTION exhibit_ledger_append_only()",
            "CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries FOR EACH STATEMENT EXECUTE FUNCTION exhibit_ledger_append_only()",
            """
            CREATE FUNCTION exhibit_ledger_chain() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE previous text;
            BEGIN
                IF NEW.seq = 1 THEN
                    IF NEW.prev <> repeat('0', 64) THEN
                        RAISE EXCEPTION 'entry 1 of case % must have prev of 64 zeros', NEW.case_id;
                    END IF;
                ELSE
                    SELECT hash INTO previous FROM ledger_entries WHERE case_id = NEW.case_id AND seq = NEW.seq - 1;
                    IF previous IS NULL OR previous <> NEW.prev THEN
                        RAISE EXCEPTION 'entry % of case % does not chain to entry %', NEW.seq, NEW.case_id, NEW.seq - 1;
                    END IF;
                END IF;
                RETURN NEW;
            END
            $$
            """,
            "CREATE TRIGGER ledger_entries_chain BEFORE INSERT ON ledger_entries FOR EACH ROW EXECUTE FUNCTION exhibit_ledger_chain()",
            """
            CREATE TABLE case_files (
                case_id text NOT NULL REFERENCES cases(id),
                path text NOT NULL,
                sha256 text NOT NULL,
                size bigint NOT NULL,
                seq bigint NOT NULL,
                PRIMARY KEY (case_id, path)
            )
            """,
            """
            CREATE TABLE page_text (
                case_id text NOT NULL REFERENCES cases(id),
                seq bigint NOT NULL,
                url text NOT NULL,
                title text NOT NULL,
                body text NOT NULL,
                tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', title || ' ' || body)) STORED
            )
            """,
            "CREATE INDEX page_text_tsv ON page_text USING GIN (tsv)",
            "CREATE INDEX page_text_case ON page_text (case_id, seq)",
            """
            CREATE TABLE seen_signatures (
                signature text PRIMARY KEY,
                seen_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            """
            CREATE TABLE receipts (
                case_id text NOT NULL REFERENCES cases(id),
                seq bigint NOT NULL,
                head text NOT NULL,
                time text NOT NULL,
                signature text NOT NULL,
                PRIMARY KEY (case_id, seq)
            )
            """,
            """
            CREATE TABLE server_key (
                id integer PRIMARY KEY CHECK (id = 1),
                private_key_pem text NOT NULL,
                public_key_pem text NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now()
            )
            """,
        ]),
    ]

    static var latestVersion: Int { migrations.map(\.version).max() ?? 0 }
}
