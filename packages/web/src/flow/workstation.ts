// The administrator's workstation as the page sees it through the card agent: the two readers,
// the cards in them, and the events as they happen. Other parts subscribe to it.
import type { CardNumber, ReaderSlot, Readers, SignedStatement } from '@reservkort/domain';
import {
  type AgentClient,
  type AgentEvent,
  AgentFailure,
  type AgentInfo,
  type AgentOperation,
  type AgentReader,
  type StatementRequest,
} from '../api/agent-client.js';
import { HEALTHY, type Simulation } from '../training/scenarios.js';
import { ReaderNumbers } from './reader-numbers.js';

export interface ReaderEventEntry {
  readonly seq: number;
  readonly type: 'reader-plugged' | 'reader-unplugged' | 'card-inserted' | 'card-removed';
  readonly slot: ReaderSlot | null;
  readonly cardNumber: CardNumber | null;
  readonly at: number;
}

export interface SlotView {
  readonly slot: ReaderSlot;
  readonly readerId: string | null;
  readonly card: { readonly cardNumber: CardNumber | null } | null;
}

/** A PIN dialog the agent is waiting on, for the page to open (or offer to open). */
export interface WaitingDialog {
  readonly id: string;
  readonly pin: 'pin1' | 'pin2';
  readonly url: string;
  readonly opened: boolean;
  /** The card work that asks for it (a clean-up of a failed attempt's keys is said as such). */
  readonly kind: AgentOperation['kind'];
}

const MAX_LOG = 50;

export class Workstation {
  info: AgentInfo | null = null;
  readers: readonly AgentReader[] = [];
  log: readonly ReaderEventEntry[] = [];
  live = false;
  failure: AgentFailure | null = null;
  dialog: WaitingDialog | null = null;
  /** Training: parts of the workstation made to fail on purpose (a dialog never shown, a silent agent). */
  simulation: Simulation = HEALTHY;
  language: 'sv' | 'en' = 'sv';
  private readonly listeners = new Set<() => void>();
  private readonly eventListeners = new Set<(event: AgentEvent) => void>();
  private closeEvents: (() => void) | null = null;
  /** The last card seen in each reader, so a removal can say which card left. */
  private readonly lastCard = new Map<string, CardNumber | null>();
  private readonly numbers = new ReaderNumbers();

  constructor(readonly agent: AgentClient) {}

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onAgentEvent(listener: (event: AgentEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  async start(): Promise<void> {
    try {
      await this.agent.connect();
      this.info = await this.agent.info();
      await this.refresh();
      this.closeEvents = this.agent.events(
        (event) => void this.handle(event),
        (open) => {
          this.live = open;
          // After a reconnect, the readers may have changed while nobody listened.
          if (open) void this.refresh();
          this.changed();
        },
      );
      this.failure = null;
    } catch (error) {
      this.failure = error instanceof AgentFailure ? error : new AgentFailure('AGENT_UNREACHABLE', null);
    }
    this.changed();
  }

  /** Sets the simulated faults; those of the card station and the cards are the agent's own to simulate. */
  async simulate(simulation: Simulation): Promise<void> {
    const before = this.simulation;
    this.simulation = simulation;
    this.changed();
    if (
      before.unregisteredStation !== simulation.unregisteredStation ||
      before.forgedStatement !== simulation.forgedStatement
    ) {
      const agent = await this.agent.simulateStation({
        unregisteredStation: simulation.unregisteredStation,
        forgedStatement: simulation.forgedStatement,
      });
      this.simulation = { ...this.simulation, ...agent };
      this.changed();
    }
    if (
      before.counterfeitCard !== simulation.counterfeitCard ||
      before.exportableKeys !== simulation.exportableKeys
    ) {
      const cards = await this.agent.simulateCardFaults({
        counterfeitCard: simulation.counterfeitCard,
        exportableKeys: simulation.exportableKeys,
      });
      this.simulation = { ...this.simulation, ...cards };
      this.changed();
    }
  }

  /** A statement of the station; a forged one was the agent's last, so the panel shows it spent. */
  async statement(request: StatementRequest): Promise<SignedStatement> {
    const signed = await this.agent.statement(request);
    if (this.simulation.forgedStatement) {
      this.simulation = { ...this.simulation, forgedStatement: false };
      this.changed();
    }
    return signed;
  }

  stop(): void {
    this.closeEvents?.();
  }

  async refresh(): Promise<void> {
    this.readers = await this.agent.readers();
    this.numbers.update(this.readers.map((r) => r.id));
    for (const reader of this.readers) this.lastCard.set(reader.id, reader.card?.cardNumber ?? null);
    this.changed();
  }

  /** Whether the agent is a registered card station (one that signs statements); asked each time, as registration may change it. */
  async isStation(): Promise<boolean> {
    try {
      return (await this.agent.station()).registered;
    } catch (error) {
      // An agent without a station identity answers STATION_NOT_REGISTERED: no statements then.
      if (error instanceof AgentFailure && error.code === 'STATION_NOT_REGISTERED') return false;
      throw error;
    }
  }

  /** Reader 1 and 2 as the flow numbers them (see ReaderNumbers). */
  slotOf(readerId: string): ReaderSlot | null {
    return this.numbers.slotOf(readerId);
  }

  readerIdOf(slot: ReaderSlot): string | null {
    return this.readers.find((r) => this.slotOf(r.id) === slot)?.id ?? null;
  }

  slot(slot: ReaderSlot): SlotView {
    const reader = this.readers.find((r) => this.slotOf(r.id) === slot);
    return { slot, readerId: reader?.id ?? null, card: reader?.card ?? null };
  }

  /** The readers in the form the server's flow takes them. */
  flowReaders(): Readers {
    const one = (slot: ReaderSlot) => {
      const view = this.slot(slot);
      return {
        connected: view.readerId !== null,
        card: view.card ? { cardNumber: view.card.cardNumber } : null,
      };
    };
    return { 1: one(1), 2: one(2) };
  }

  private async handle(event: AgentEvent): Promise<void> {
    if (event.type !== 'flow' && event.type !== 'operation') {
      const removedCard = event.type === 'card-removed' ? (this.lastCard.get(event.readerId) ?? null) : null;
      // After the refresh a reader just plugged in has its number too; one unplugged keeps its own.
      await this.refresh().catch(() => undefined);
      const entry: ReaderEventEntry = {
        seq: event.seq,
        type: event.type,
        slot: this.slotOf(event.readerId),
        cardNumber: event.type === 'card-removed' ? removedCard : (event.cardNumber ?? null),
        at: event.at,
      };
      this.log = [entry, ...this.log].slice(0, MAX_LOG);
      for (const listener of this.eventListeners) listener({ ...event, cardNumber: entry.cardNumber });
    } else {
      for (const listener of this.eventListeners) listener(event);
    }
    this.changed();
  }

  /** Opens the agent's PIN dialog in its own window (the PIN never touches this page). */
  openDialog(): void {
    const dialog = this.dialog;
    if (dialog === null) return;
    const opened = window.open(
      `${dialog.url}?lang=${this.language}`,
      'reservkort-pin',
      'popup,width=460,height=560',
    );
    this.dialog = { ...dialog, opened: opened !== null };
    this.changed();
  }

  /**
   * Runs an agent operation to its end, opening each PIN dialog it waits on. When the browser
   * blocks the window, the page offers a button that opens it (a click is always allowed). An
   * operation a reloaded page carries on with may wait on a dialog already shown before the reload:
   * its window is opened again (the same window, if it is still there).
   */
  async run(
    start: Promise<AgentOperation>,
    /** Each view while the operation waits: e.g. the dialog's last error (a wrong PUK, its tries left). */
    onView?: (view: AgentOperation) => void,
  ): Promise<AgentOperation> {
    let view = await start;
    const seen = new Set<string>();
    try {
      while (view.state === 'pending') {
        onView?.(view);
        const dialog = view.dialog;
        const open = dialog?.state === 'waiting' || dialog?.state === 'shown';
        if (dialog && open && view.dialogUrl && !seen.has(dialog.id)) {
          seen.add(dialog.id);
          this.dialog = {
            id: dialog.id,
            pin: dialog.pin,
            url: view.dialogUrl,
            opened: false,
            kind: view.kind,
          };
          if (!this.simulation.unopenedDialogs.includes(dialog.pin)) this.openDialog();
          this.changed();
        } else if (
          this.dialog &&
          dialog?.id === this.dialog.id &&
          dialog.state !== 'waiting' &&
          dialog.state !== 'shown'
        ) {
          this.dialog = null;
          this.changed();
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
        view = await this.agent.operation(view.id, 0);
      }
    } finally {
      this.dialog = null;
      this.changed();
    }
    return view;
  }
}
