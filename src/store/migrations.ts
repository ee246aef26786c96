import type { DatabaseSync } from 'node:sqlite';

/**
 * Versioned schema changes, applied in order, each in its own transaction; `PRAGMA user_version`
 * records the last one applied. Never edit a shipped migration: add the next one.
 */
export const migrations: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'apps, releases, deployments, instances, env vars, events',
    sql: `
      CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE tokens (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL, last_used_at INTEGER
      );
      CREATE TABLE apps (
        name TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL,
        current_release TEXT,
        next_version INTEGER NOT NULL DEFAULT 1
      );
      CREATE TABLE builds (
        id TEXT PRIMARY KEY,
        app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
        artifact TEXT NOT NULL,
        inferred_command TEXT,
        created_at INTEGER NOT NULL,
        removed_at INTEGER
      );
      CREATE TABLE releases (
        id TEXT PRIMARY KEY,
        app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        build_id TEXT NOT NULL REFERENCES builds(id),
        manifest TEXT NOT NULL,
        env_sealed TEXT NOT NULL,
        description TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'ready', 'failed', 'pruned')),
        created_at INTEGER NOT NULL,
        UNIQUE (app, version)
      );
      CREATE TABLE deployments (
        id TEXT PRIMARY KEY,
        app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('deploy', 'env', 'rollback')),
        state TEXT NOT NULL,
        release_id TEXT,
        previous_release_id TEXT,
        error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        finished_at INTEGER
      );
      CREATE INDEX deployments_by_app ON deployments (app, created_at);
      CREATE TABLE instances (
        id TEXT PRIMARY KEY,
        app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
        release_id TEXT NOT NULL,
        deployment_id TEXT,
        process TEXT NOT NULL,
        ordinal INTEGER NOT NULL,
        state TEXT NOT NULL,
        address TEXT,
        state_until INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX instances_by_app ON instances (app, state);
      CREATE TABLE env_vars (
        app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
        name TEXT NOT NULL,
        value_sealed TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (app, name)
      );
      -- Append-only: the audit trail outlives the apps it talks about.
      CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        app TEXT,
        deployment_id TEXT,
        type TEXT NOT NULL,
        message TEXT NOT NULL,
        data TEXT
      );
      CREATE INDEX events_by_deployment ON events (deployment_id, seq);
      CREATE INDEX events_by_app ON events (app, seq);
      CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
      CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
    `,
  },
  {
    version: 2,
    name: 'scale deployments and per-app process formation',
    // SQLite cannot alter a CHECK constraint: the table is rebuilt with the same rows.
    sql: `
      CREATE TABLE deployments_v2 (
        id TEXT PRIMARY KEY,
        app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('deploy', 'env', 'rollback', 'scale')),
        state TEXT NOT NULL,
        release_id TEXT,
        previous_release_id TEXT,
        error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        finished_at INTEGER
      );
      INSERT INTO deployments_v2 SELECT id, app, kind, state, release_id, previous_release_id, error, created_at, updated_at, finished_at FROM deployments;
      DROP TABLE deployments;
      ALTER TABLE deployments_v2 RENAME TO deployments;
      CREATE INDEX deployments_by_app ON deployments (app, created_at);
      -- Replicas set with \`berth scale\`, which win over berth.yaml until changed again: {"web": 3}.
      ALTER TABLE apps ADD COLUMN formation TEXT NOT NULL DEFAULT '{}';
    `,
  },
  {
    version: 3,
    name: 'the git commit a build came from',
    sql: `ALTER TABLE builds ADD COLUMN git_sha TEXT;`,
  },
  {
    version: 4,
    // A release keeps berth.yaml's replicas and, beside them, the counts set with \`berth scale\` it ran
    // with, so that \`scale --reset\` can go back to berth.yaml's. Older releases have the counts baked in.
    name: 'the formation a release runs with',
    sql: `ALTER TABLE releases ADD COLUMN formation TEXT NOT NULL DEFAULT '{}';`,
  },
  {
    version: 5,
    // `berth registry login`: one login per registry host; the password sealed like env values.
    name: 'registry credentials',
    sql: `
      CREATE TABLE registry_credentials (
        host TEXT PRIMARY KEY,
        username TEXT NOT NULL,
        password_sealed TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 6,
    // An image app's "build" is a pulled image: the reference as written, and whether berth pulled it (only
    // then may berth remove it again; an image that was on the machine before is the user's).
    name: 'builds of image apps',
    sql: `ALTER TABLE builds ADD COLUMN image TEXT; ALTER TABLE builds ADD COLUMN pulled INTEGER NOT NULL DEFAULT 0;`,
  },
  {
    version: 7,
    // Auto-update (src/deploy/image-updater.ts): `update` deployments; per followed image, the updater's
    // state (checks, the digest serving, a pinned bad digest, an update on trial), kept across restarts; and
    // the digest each release runs for a service that follows its tag, so a rollback restores it.
    name: 'auto-update',
    sql: `
      CREATE TABLE deployments_v7 (
        id TEXT PRIMARY KEY,
        app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('deploy', 'env', 'rollback', 'scale', 'update')),
        state TEXT NOT NULL,
        release_id TEXT,
        previous_release_id TEXT,
        error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        finished_at INTEGER
      );
      INSERT INTO deployments_v7 SELECT id, app, kind, state, release_id, previous_release_id, error, created_at, updated_at, finished_at FROM deployments;
      DROP TABLE deployments;
      ALTER TABLE deployments_v7 RENAME TO deployments;
      CREATE INDEX deployments_by_app ON deployments (app, created_at);
      -- {"cache": "docker.io/library/redis@sha256:..."}: services that follow their tag, pinned.
      ALTER TABLE releases ADD COLUMN service_images TEXT NOT NULL DEFAULT '{}';
      CREATE TABLE image_updates (
        app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
        service TEXT NOT NULL, -- '' for the app's own image
        image TEXT NOT NULL,
        next_check_at INTEGER NOT NULL,
        last_check_at INTEGER,
        last_error TEXT,
        serving_digest TEXT,
        pinned_digest TEXT,
        trial TEXT,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (app, service)
      );
    `,
  },
  {
    version: 8,
    // HTTPS (src/certs/): one certificate per hostname, ACME's or the user's own (the key sealed like env
    // values); no foreign key to apps, since a certificate outlives the app that asked for it for a while.
    // The ACME account per directory URL: a change of --acme-directory (staging -> production) gets a new
    // account there, and going back finds the old one.
    name: 'certificates and ACME accounts',
    sql: `
      CREATE TABLE certificates (
        domain TEXT PRIMARY KEY,
        source TEXT NOT NULL CHECK (source IN ('acme', 'own')),
        app TEXT,
        status TEXT NOT NULL CHECK (status IN ('pending', 'issued', 'failed')),
        cert_pem TEXT,
        key_sealed TEXT,
        issuer TEXT,
        not_before INTEGER,
        not_after INTEGER,
        renew_at INTEGER,
        last_error TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE acme_accounts (
        directory TEXT PRIMARY KEY,
        key_sealed TEXT NOT NULL,
        url TEXT,
        email TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 9,
    // Health history (src/store/health-checks.ts): the monitor's checks, the last 100 per instance; each
    // instance's and app's health state (no row: unknown), so a restarted daemon shows the same. Rows go
    // with their app (cascade); instances themselves are only ever deleted with it.
    name: 'health history',
    sql: `
      CREATE TABLE health_checks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
        instance_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        ok INTEGER NOT NULL,
        status INTEGER,
        latency_ms INTEGER NOT NULL,
        detail TEXT
      );
      CREATE INDEX health_checks_by_instance ON health_checks (instance_id, id);
      CREATE INDEX health_checks_by_app ON health_checks (app);
      CREATE TABLE instance_health (
        instance_id TEXT PRIMARY KEY,
        app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
        state TEXT NOT NULL CHECK (state IN ('unknown', 'healthy', 'degraded')),
        failures INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX instance_health_by_app ON instance_health (app);
      CREATE TABLE app_health (
        app TEXT PRIMARY KEY REFERENCES apps(name) ON DELETE CASCADE,
        state TEXT NOT NULL CHECK (state IN ('unknown', 'healthy', 'degraded')),
        updated_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 10,
    // Notifications (src/notify/): the notifiers, their URLs and signing secrets sealed like env values;
    // a durable queue of deliveries, in order per notifier, kept as bounded history once done; and the
    // last event the queue has taken in, moved in the transaction that enqueues, so a restart neither
    // loses nor repeats an event.
    name: 'notifications',
    sql: `
      CREATE TABLE notifiers (
        name TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('slack', 'webhook')),
        url_sealed TEXT NOT NULL,
        target TEXT NOT NULL,
        secret_sealed TEXT,
        events TEXT,
        from_seq INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE notify_deliveries (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        notifier TEXT NOT NULL REFERENCES notifiers(name) ON DELETE CASCADE,
        event_seq INTEGER,
        type TEXT NOT NULL,
        app TEXT,
        payload TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_status INTEGER,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        finished_at INTEGER,
        UNIQUE (notifier, event_seq)
      );
      CREATE INDEX notify_deliveries_queue ON notify_deliveries (notifier, state, seq);
      CREATE TABLE notify_cursor (id INTEGER PRIMARY KEY CHECK (id = 1), event_seq INTEGER NOT NULL);
    `,
  },
  {
    version: 11,
    // `berth chaos` (deploy/chaos.ts): at most one simulated outage per app, in the route table while it lasts.
    name: 'chaos',
    sql: `
      CREATE TABLE chaos (
        app TEXT PRIMARY KEY REFERENCES apps(name) ON DELETE CASCADE,
        mode TEXT NOT NULL CHECK (mode IN ('slow', 'error')),
        latency_ms INTEGER,
        status INTEGER,
        ratio REAL,
        release_version INTEGER,
        since INTEGER NOT NULL,
        until INTEGER NOT NULL
      );
    `,
  },
  {
    version: 12,
    // The check pipeline (deploy/checks.ts): which checks a release passed (the `release.checks` policy
    // fact, kept for its rollbacks, which run none), and whether its deploy skipped them (--skip-checks).
    name: 'release checks',
    sql: `
      ALTER TABLE releases ADD COLUMN checks_passed TEXT NOT NULL DEFAULT '[]';
      ALTER TABLE releases ADD COLUMN checks_skipped INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 13,
    // A canary deployment's rollout (deploy/canary/): the share of traffic the new release gets, step by
    // step, and the last verdicts; the route table's split is read from the running one (the store is the truth).
    name: 'rollouts',
    sql: `
      CREATE TABLE rollouts (
        deployment_id TEXT PRIMARY KEY,
        app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
        canary_release_id TEXT NOT NULL,
        stable_release_id TEXT NOT NULL,
        steps INTEGER NOT NULL,
        step INTEGER NOT NULL,
        percent INTEGER NOT NULL CHECK (percent BETWEEN 0 AND 100),
        sticky TEXT NOT NULL CHECK (sticky IN ('cookie', 'address')),
        step_started_at INTEGER NOT NULL,
        step_ends_at INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('running', 'promoting', 'aborting', 'promoted', 'aborted')),
        verdicts TEXT NOT NULL DEFAULT '[]',
        reason TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX rollouts_by_app ON rollouts (app, created_at);
    `,
  },
];

/** What migrating needs of the database (db.ts's Db has it; named here so the two files do not import each other). */
export interface Migratable {
  readonly sqlite: DatabaseSync;
  get<T>(sql: string): T | undefined;
  transaction<T>(fn: () => T): T;
}

export function migrate(db: Migratable): void {
  const current = (db.get<{ user_version: number }>('PRAGMA user_version')?.user_version ?? 0) as number;
  const latest = migrations.at(-1)!.version;
  if (current > latest) {
    throw new Error(`the store was written by a newer berth (schema ${current}, this berth knows up to ${latest}); upgrade berth`);
  }
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.sqlite.exec(migration.sql);
      db.sqlite.exec(`PRAGMA user_version = ${migration.version}`);
    });
  }
}
