// query.mjs runs one SQL query in an in-memory DuckDB and prints the result
// rows as a JSON array on stdout. report/parquet_test.go uses it as an
// independent Parquet reader.
//
// Usage: node query.mjs 'SELECT count(*) AS n FROM read_parquet(...)'
//
// @duckdb/node-api is loaded from $CLAWTRACE_DUCKDB_DIR/node_modules when
// that is set, else from node_modules next to this script.
//
// Values are converted with getRowObjectsJson: BIGINT, HUGEINT and DECIMAL
// become strings, DOUBLE stays a number, NULL is null.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const sql = process.argv[2];
if (!sql) {
  console.error('usage: node query.mjs SQL');
  process.exit(2);
}
const base = process.env.CLAWTRACE_DUCKDB_DIR || dirname(fileURLToPath(import.meta.url));
try {
  const require = createRequire(join(base, 'package.json'));
  const { DuckDBInstance } = await import(pathToFileURL(require.resolve('@duckdb/node-api')).href);
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const reader = await conn.runAndReadAll(sql);
  process.stdout.write(JSON.stringify(reader.getRowObjectsJson()) + '\n');
  conn.closeSync();
  instance.closeSync();
} catch (err) {
  console.error(String(err && err.message ? err.message : err));
  process.exit(1);
}
