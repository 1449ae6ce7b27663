// The web UI's production bundle: its JavaScript gzipped, against the 250 KB budget and against a
// peer built the same way side by side (React and ReactDOM rendering one paragraph), so the ratio
// shows what the portal adds on top of its framework.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import react from '@vitejs/plugin-react';
import { build } from 'vite';

const WEB = join(import.meta.dirname, '..', 'packages', 'web');
const BUDGET_KB = 250;
const SCRATCH = join(import.meta.dirname, '..', '.tmp');

interface Sizes {
  readonly files: number;
  readonly rawKb: number;
  readonly gzipKb: number;
}

const measure = async (dist: string): Promise<Sizes> => {
  const assets = join(dist, 'assets');
  const scripts = (await readdir(assets)).filter((name) => name.endsWith('.js'));
  let raw = 0;
  let gzip = 0;
  for (const name of scripts) {
    const bytes = await readFile(join(assets, name));
    raw += bytes.length;
    gzip += gzipSync(bytes, { level: 9 }).length;
  }
  return { files: scripts.length, rawKb: raw / 1024, gzipKb: gzip / 1024 };
};

/** Builds with the portal's own Vite configuration, or (for the peer) with the same plugin and none else. */
const buildAt = async (root: string, outDir: string, configFile: string | false = false) => {
  await build({
    root,
    configFile,
    logLevel: 'silent',
    plugins: configFile ? [] : [react()],
    build: { outDir, emptyOutDir: true, modulePreload: { polyfill: false } },
  });
};

export const run = async (): Promise<void> => {
  // Inside the project (and ignored by git), so the peer resolves the same installed React.
  await mkdir(SCRATCH, { recursive: true });
  const work = await mkdtemp(join(SCRATCH, 'web-'));
  try {
    const portalOut = join(work, 'portal');
    await buildAt(WEB, portalOut, join(WEB, 'vite.config.ts'));
    // The peer: the same toolchain and framework, nothing of the portal.
    const peer = join(work, 'peer');
    await mkdir(join(peer, 'src'), { recursive: true });
    await writeFile(
      join(peer, 'index.html'),
      '<!doctype html><html><body><div id="root"></div><script type="module" src="/src/main.jsx"></script></body></html>',
    );
    await writeFile(
      join(peer, 'src', 'main.jsx'),
      "import { createRoot } from 'react-dom/client';\ncreateRoot(document.getElementById('root')).render(<p>peer</p>);\n",
    );
    await buildAt(peer, join(work, 'peer-out'));
    const [portal, baseline] = [await measure(portalOut), await measure(join(work, 'peer-out'))];
    const row = (name: string, s: Sizes) =>
      `${name.padEnd(26)}${String(s.files).padStart(6)}${s.rawKb.toFixed(1).padStart(10)}${s.gzipKb.toFixed(1).padStart(10)}`;
    const lines = [
      `${'bundle'.padEnd(26)}${'files'.padStart(6)}${'KB'.padStart(10)}${'KB gz'.padStart(10)}`,
      row('portal (packages/web)', portal),
      row('peer: React + one <p>', baseline),
      '',
      `portal / peer (gz):     ${(portal.gzipKb / baseline.gzipKb).toFixed(2)}×`,
      `portal / budget (gz):   ${(portal.gzipKb / BUDGET_KB).toFixed(2)}× of ${BUDGET_KB} KB — ${
        portal.gzipKb < BUDGET_KB ? 'goal met' : 'GOAL MISSED'
      }`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
};
