import { readFileSync } from 'node:fs';
import type { AgentInfo } from './card-agent.js';

/** The agent's own version (from its package) and how it was packaged (npm, deb, standalone…). */
export const agentInfo = (): AgentInfo => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return { version: pkg.version, packaging: process.env.RESERVKORT_AGENT_PACKAGING ?? 'npm' };
};
