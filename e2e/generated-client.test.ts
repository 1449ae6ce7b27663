// The web page's client is generated from the server's OpenAPI document (npm run generate:api -w
// @reservkort/web). This fails when a route changed and the committed client was not regenerated.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../packages/server/src/cli/commands/serve.command.js';

const run = promisify(execFile);
const WEB_API = join(import.meta.dirname, '..', 'packages', 'web', 'src', 'api');
const GENERATOR = join(import.meta.dirname, '..', 'node_modules', '.bin', 'openapi-typescript');

describe('the generated server client', () => {
  let dir = '';
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('matches the OpenAPI document the server describes today', async () => {
    dir = await mkdtemp(join(tmpdir(), 'reservkort-openapi-'));
    const document = `${JSON.stringify(await openApiDocument(), null, 2)}\n`;
    expect(document, 'regenerate with: npm run generate:api -w @reservkort/web').toBe(
      await readFile(join(WEB_API, 'openapi.json'), 'utf8'),
    );
    await writeFile(join(dir, 'openapi.json'), document);
    await run(GENERATOR, [join(dir, 'openapi.json'), '-o', join(dir, 'server-api.ts')]);
    expect(await readFile(join(dir, 'server-api.ts'), 'utf8')).toBe(
      await readFile(join(WEB_API, 'server-api.ts'), 'utf8'),
    );
  });
});
