// npm run bench -- <name>: runs one benchmark (or all) and prints its table of ratios.
const BENCHMARKS: Record<string, () => Promise<{ run: () => Promise<void> }>> = {
  ocsp: () => import('./ocsp.bench.js'),
  flow: () => import('./flow.bench.js'),
  search: () => import('./search.bench.js'),
  web: () => import('./web.bench.js'),
  insight: () => import('./insight.bench.js'),
};

const names = process.argv.slice(2);
const chosen = names.length === 0 ? Object.keys(BENCHMARKS) : names;
for (const name of chosen) {
  const load = BENCHMARKS[name];
  if (load === undefined) {
    process.stderr.write(`unknown benchmark ${name}; choose from: ${Object.keys(BENCHMARKS).join(', ')}\n`);
    process.exit(2);
  }
  process.stdout.write(`\n== ${name} ==\n`);
  await (await load()).run();
}
