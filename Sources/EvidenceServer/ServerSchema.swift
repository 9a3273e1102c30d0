/// The evidence server's PostgreSQL schema (DESIGN §22), as numbered migrations that
/// `exhibit server` applies at start and records in `schema_migrations`.
///
/// The ledger table is append-only in the database itself: a trigger refuses every
/// UPDATE, DELETE and TRUNCATE, and another refuses an INSERT statement with an entry
/// whose `prev` is not the previous row's `hash` (or 64 zeros for seq 1), so not even
/// a faulty server can rewrite or fork a case's history.
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
        // Version 1 checked each inserted row on its own: a PL/pgSQL chain check and two
        // foreign-key lookups per ledger row, one per page row (of the 350 ms of
        // PostgreSQL's CPU in a 10,000-entry push, 85 the chain and 150 the foreign keys).
        // The same rules are checked once per statement over its transition table, each
        // a join: a ledger row's case and actor exist and its prev is its predecessor's
        // hash (or 64 zeros for seq 1); a page row's case exists. In place of the foreign
        // keys' refusal to delete a referenced row, cases and actors are never deleted
        // and their ids never change (the server does neither). An AFTER trigger sees
        // the whole statement's rows, so a row may chain to one inserted later in the
        // same statement: what holds at the end is the same rule.
        Migration(version: 2, description: "ledger chain, case and actor checked once per INSERT statement", statements: [
            "DROP TRIGGER ledger_entries_chain ON ledger_entries",
            "DROP FUNCTION exhibit_ledger_chain()",
            "ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_case_id_fkey, DROP CONSTRAINT ledger_entries_actor_fkey",
            "ALTER TABLE page_text DROP CONSTRAINT page_text_case_id_fkey",
            """
            CREATE FUNCTION exhibit_ledger_rows() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE broken record;
            BEGIN
                SELECT added.case_id, added.seq, added.actor, cases.id IS NULL AS no_case, actors.id IS NULL AS no_actor
                INTO broken
                FROM added
                LEFT JOIN cases ON cases.id = added.case_id
                LEFT JOIN actors ON actors.id = added.actor
                LEFT JOIN ledger_entries previous ON previous.case_id = added.case_id AND previous.seq = added.seq - 1
                WHERE cases.id IS NULL OR actors.id IS NULL
                   OR added.prev IS DISTINCT FROM (CASE WHEN added.seq = 1 THEN repeat('0', 64) ELSE previous.hash END)
                LIMIT 1;
                IF NOT FOUND THEN
                    RETURN NULL;
                ELSIF broken.no_case THEN
                    RAISE EXCEPTION 'entry % names case %, which the server does not hold', broken.seq, broken.case_id;
                ELSIF broken.no_actor THEN
                    RAISE EXCEPTION 'entry % of case % names actor %, who is not registered', broken.seq, broken.case_id, broken.actor;
                ELSIF broken.seq = 1 THEN
                    RAISE EXCEPTION 'entry 1 of case % must have prev of 64 zeros', broken.case_id;
                END IF;
                RAISE EXCEPTION 'entry % of case % does not chain to entry %', broken.seq, broken.case_id, broken.seq - 1;
            END
            $$
            """,
            "CREATE TRIGGER ledger_entries_rows AFTER INSERT ON ledger_entries REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION exhibit_ledger_rows()",
            """
            CREATE FUNCTION exhibit_page_text_rows() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE broken record;
            BEGIN
                SELECT added.case_id INTO broken FROM added
                WHERE NOT EXISTS (SELECT 1 FROM cases WHERE cases.id = added.case_id) LIMIT 1;
                IF FOUND THEN
                    RAISE EXCEPTION 'page text names case %, which the server does not hold', broken.case_id;
                END IF;
                RETURN NULL;
            END
            $$
            """,
            "CREATE TRIGGER page_text_rows AFTER INSERT ON page_text REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION exhibit_page_text_rows()",
            """
            CREATE FUNCTION exhibit_kept() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% rows are kept: % refused', TG_TABLE_NAME, TG_OP;
            END
            $$
            """,
            "CREATE TRIGGER cases_kept BEFORE DELETE OR UPDATE OF id ON cases FOR EACH ROW EXECUTE FUNCTION exhibit_kept()",
            "CREATE TRIGGER cases_kept_whole BEFORE TRUNCATE ON cases FOR EACH STATEMENT EXECUTE FUNCTION exhibit_kept()",
            "CREATE TRIGGER actors_kept BEFORE DELETE OR UPDATE OF id ON actors FOR EACH ROW EXECUTE FUNCTION exhibit_kept()",
            "CREATE TRIGGER actors_kept_whole BEFORE TRUNCATE ON actors FOR EACH STATEMENT EXECUTE FUNCTION exhibit_kept()",
        ]),
    ]

    static var latestVersion: Int { migrations.map(\.version).max() ?? 0 }
}
