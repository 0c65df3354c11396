-- The expert store's tables (``core.store.SCHEMA_VERSION`` names their version).
CREATE TABLE IF NOT EXISTS meta(key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS concepts(concept VARCHAR PRIMARY KEY, added_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS sentences(sid UBIGINT PRIMARY KEY, text VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS concept_sentences(
    concept VARCHAR, sid UBIGINT, source VARCHAR, PRIMARY KEY(concept, sid));
CREATE TABLE IF NOT EXISTS runs(
    run_id VARCHAR PRIMARY KEY, model VARCHAR, revision VARCHAR, step BIGINT, family VARCHAR,
    n_params BIGINT, n_units INTEGER, n_layers INTEGER, unit_table VARCHAR,
    dataset_hash VARCHAR, config VARCHAR, versions VARCHAR,
    created_at TIMESTAMP, updated_at TIMESTAMP, weights_hash VARCHAR);
CREATE TABLE IF NOT EXISTS units(
    unit_table VARCHAR, unit INTEGER, layer SMALLINT, module VARCHAR, kind VARCHAR,
    "index" INTEGER, head SMALLINT, role VARCHAR);
CREATE TABLE IF NOT EXISTS results(
    run_id VARCHAR, concept VARCHAR, fold SMALLINT, n_pos INTEGER, n_neg INTEGER,
    n_units INTEGER, n_stored INTEGER, ap_floor FLOAT, max_ap FLOAT, mean_ap FLOAT,
    part VARCHAR, finished_at TIMESTAMP, PRIMARY KEY(run_id, concept, fold));
CREATE TABLE IF NOT EXISTS ap(run_id VARCHAR, concept VARCHAR, fold SMALLINT, unit INTEGER, ap FLOAT);
CREATE TABLE IF NOT EXISTS vectors(
    run_id VARCHAR, concept VARCHAR, kind VARCHAR, vec FLOAT[], PRIMARY KEY(run_id, concept, kind));
CREATE TABLE IF NOT EXISTS training_log(
    model VARCHAR, step BIGINT, tokens BIGINT, loss DOUBLE, held_out_loss DOUBLE, PRIMARY KEY(model, step));
CREATE TABLE IF NOT EXISTS alignment_snapshots(
    benchmark VARCHAR, run_id VARCHAR, method VARCHAR, tau DOUBLE, rho DOUBLE, ci_low DOUBLE, ci_high DOUBLE,
    p_value DOUBLE, p_vs_experts DOUBLE, n_pairs INTEGER, n_missing INTEGER, n_boot INTEGER,
    computed_at TIMESTAMP, benchmark_hash VARCHAR, n_results INTEGER, PRIMARY KEY(benchmark, run_id, method, tau));
ALTER TABLE runs ADD COLUMN IF NOT EXISTS weights_hash VARCHAR;  -- stores made before the column
-- A run's summary: rows with the hash of the benchmark's pairs and the run's result count they were computed from.
ALTER TABLE alignment_snapshots ADD COLUMN IF NOT EXISTS benchmark_hash VARCHAR;
ALTER TABLE alignment_snapshots ADD COLUMN IF NOT EXISTS n_results INTEGER;
