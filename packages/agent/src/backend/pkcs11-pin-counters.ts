// Wrong PIN and PUK entries in a row, per card number. Cards count these themselves; SoftHSM2 and
// many soft tokens do not, so the backend keeps its own count on top (SPEC §3) and, with a state
// file, keeps it across restarts of the agent. Never holds a PIN, only how often one was wrong.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CardNumber } from '@reservkort/domain';
import { AgentError } from '../agent-error.js';

export interface PinCounters {
  readonly pin1: number;
  readonly pin2: number;
  readonly puk: number;
}

export const NO_WRONG_ENTRIES: PinCounters = { pin1: 0, pin2: 0, puk: 0 };

interface StateFileV1 {
  readonly version: 1;
  readonly cards: Readonly<Record<string, PinCounters>>;
}

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0;

const isCounters = (value: unknown): value is PinCounters => {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return isCount(v.pin1) && isCount(v.pin2) && isCount(v.puk);
};

const parseState = (text: string): Map<string, PinCounters> | null => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const { version, cards } = parsed as { version?: unknown; cards?: unknown };
  if (version !== 1 || typeof cards !== 'object' || cards === null) return null;
  const result = new Map<string, PinCounters>();
  for (const [card, counters] of Object.entries(cards)) {
    if (!isCounters(counters)) return null;
    result.set(card, { pin1: counters.pin1, pin2: counters.pin2, puk: counters.puk });
  }
  return result;
};

export class PinCounterStore {
  private constructor(
    private readonly file: string | null,
    private readonly cards: Map<string, PinCounters>,
  ) {}

  /**
   * A state file that exists but cannot be read refuses to open: starting from zero would hand
   * every blocked PIN three fresh tries.
   */
  static async open(file: string | null): Promise<PinCounterStore> {
    if (file === null) return new PinCounterStore(null, new Map());
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') return new PinCounterStore(file, new Map());
      throw new AgentError(
        'CARD_ERROR',
        `PIN state file ${file} cannot be read`,
        { reason: 'STATE_FILE' },
        { cause: error },
      );
    }
    const cards = parseState(text);
    if (cards === null) {
      throw new AgentError('CARD_ERROR', `PIN state file ${file} is not valid`, { reason: 'STATE_FILE' });
    }
    return new PinCounterStore(file, cards);
  }

  get(card: CardNumber): PinCounters {
    return this.cards.get(card) ?? NO_WRONG_ENTRIES;
  }

  async set(card: CardNumber, counters: PinCounters): Promise<void> {
    const current = this.get(card);
    if (current.pin1 === counters.pin1 && current.pin2 === counters.pin2 && current.puk === counters.puk)
      return;
    if (counters.pin1 === 0 && counters.pin2 === 0 && counters.puk === 0) this.cards.delete(card);
    else this.cards.set(card, { pin1: counters.pin1, pin2: counters.pin2, puk: counters.puk });
    await this.save();
  }

  private async save(): Promise<void> {
    if (this.file === null) return;
    const state: StateFileV1 = { version: 1, cards: Object.fromEntries(this.cards) };
    // Write then rename: a crash mid-write must not leave a file that refuses to open.
    const temporary = `${this.file}.${process.pid}.tmp`;
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    await rename(temporary, this.file);
  }
}
