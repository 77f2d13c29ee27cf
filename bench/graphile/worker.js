// The peer in ATUM Desk's queue benchmark: a graphile-worker process using only its
// public API. Usage: node worker.js migrate | batched | single
// DATABASE_URL and CONCURRENCY come from the environment.
const { run, runMigrations } = require("graphile-worker");

const mode = process.argv[2];
const connectionString = process.env.DATABASE_URL;
const concurrency = parseInt(process.env.CONCURRENCY || "8", 10);

const taskList = {
  noop: async () => {},
  // Records enqueue-to-start latency on the database's clock, as ATUM's side does.
  lat: async (payload, helpers) => {
    await helpers.query(
      "insert into bench_latency (ms) values (extract(epoch from clock_timestamp() - $1::timestamptz) * 1000)",
      [payload.t],
    );
  },
};

async function main() {
  if (mode === "migrate") {
    await runMigrations({ connectionString });
    return;
  }
  const worker = {};
  if (mode === "batched") {
    // graphile-worker's own batching: fetch into a local queue, batch completions.
    worker.localQueue = { size: 250 };
    worker.completeJobBatchDelay = 0;
  }
  const runner = await run({
    connectionString,
    concurrency,
    maxPoolSize: concurrency + 2,
    pollInterval: 2000,
    noHandleSignals: false,
    taskList,
    preset: { worker },
  });
  console.log("ready");
  await runner.promise;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
