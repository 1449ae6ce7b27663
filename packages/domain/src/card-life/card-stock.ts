import { type CardNumber, parseCardNumber } from '../identifiers/card-number.js';
import type { HsaId } from '../identifiers/hsa-id.js';
import type { BranchId, OrganisationTree } from '../organisation/organisation-tree.js';
import { type DomainError, err, ok, type Result } from '../result.js';
import { addDays, type CalendarDate, compareDates, formatDate, type Instant, parseDate } from '../time.js';

/**
 * The card products a card bureau delivers reserve cards as, and how long each lasts physically:
 * a 473 card is made to last 4 years, a 573 card 5 years.
 */
export const CARD_PRODUCT_YEARS = { '473': 4, '573': 5 } as const;

export type CardProductCode = keyof typeof CARD_PRODUCT_YEARS;

const isCardProductCode = (value: string): value is CardProductCode =>
  Object.hasOwn(CARD_PRODUCT_YEARS, value);

/**
 * The physical expiry of a card: the last day it may be used, the day before the same date 4 (473)
 * or 5 (573) years after manufacture. A card made on 2026-03-15 as a 473 lasts through 2030-03-14;
 * one made on 29 February lasts through 28 February.
 */
export const physicalExpiryOf = (product: CardProductCode, manufactured: CalendarDate): CalendarDate =>
  addDays(
    {
      year: manufactured.year + CARD_PRODUCT_YEARS[product],
      month: manufactured.month,
      day: manufactured.day,
    },
    -1,
  );

/** Where a card is in its life at its card station. */
export type StockState = 'sealed' | 'issued' | 'returned' | 'destroyed';

/** One reserve card in a card station's stock. */
export interface StockCard {
  readonly cardNumber: CardNumber;
  readonly product: CardProductCode;
  readonly manufactured: CalendarDate;
  readonly physicalExpiry: CalendarDate;
  /** The card station (a branch) the card was registered to. */
  readonly stationId: BranchId;
  readonly state: StockState;
  readonly stateChangedAt: Instant;
  /** Whom the card was given to; null while it is sealed. */
  readonly holder: HsaId | null;
}

/** One line of a batch ("bunt") as the card bureau delivers it. */
export interface StockLine {
  readonly cardNumber: string;
  readonly product: string;
  /** The date of manufacture, `YYYY-MM-DD`. */
  readonly manufactured: string;
  /** The physical expiry the bureau printed, if it did: it must agree with the rule. */
  readonly physicalExpiry?: string;
}

export type StockLineProblem = 'card-number' | 'product' | 'manufactured' | 'expiry' | 'duplicate';

const lineProblem = (line: number, reason: StockLineProblem): DomainError => ({
  code: 'STOCK_LINE_INVALID',
  details: { line, reason },
});

/**
 * Reads one batch line (numbered from 1 for the messages): a real card number, a known product, a
 * real date of manufacture, and a printed physical expiry, if any, that follows the product's rule.
 */
export const parseStockLine = (
  input: StockLine,
  line: number,
): Result<Omit<StockCard, 'stationId' | 'state' | 'stateChangedAt' | 'holder'>> => {
  const card = parseCardNumber(input.cardNumber);
  if (!card.ok) return { ok: false, error: lineProblem(line, 'card-number') };
  const product = input.product.trim();
  if (!isCardProductCode(product)) return { ok: false, error: lineProblem(line, 'product') };
  const manufactured = parseDate(input.manufactured);
  if (!manufactured.ok) return { ok: false, error: lineProblem(line, 'manufactured') };
  const physicalExpiry = physicalExpiryOf(product, manufactured.value);
  if (input.physicalExpiry !== undefined && input.physicalExpiry.trim() !== formatDate(physicalExpiry)) {
    return { ok: false, error: lineProblem(line, 'expiry') };
  }
  return ok({ cardNumber: card.value, product, manufactured: manufactured.value, physicalExpiry });
};

export interface ImportBatchInput {
  readonly lines: readonly StockLine[];
  readonly stationId: BranchId;
  readonly tree: OrganisationTree;
  readonly now: Instant;
  /** The card already in any station's stock with a card number, if there is one. */
  readonly inStock: (cardNumber: CardNumber) => StockCard | null;
}

/**
 * A batch registered to a card station: every card sealed, at that station. The whole batch or
 * nothing: every problem is reported at once, with its line, so the file can be put right.
 */
export const importStockBatch = (
  input: ImportBatchInput,
): Result<readonly StockCard[], readonly DomainError[]> => {
  if (!input.tree.branches.has(input.stationId)) return { ok: false, error: [{ code: 'BRANCH_UNKNOWN' }] };
  const problems: DomainError[] = [];
  const cards: StockCard[] = [];
  const seen = new Set<string>();
  input.lines.forEach((stockLine, index) => {
    const parsed = parseStockLine(stockLine, index + 1);
    if (!parsed.ok) {
      problems.push(parsed.error);
      return;
    }
    const { cardNumber } = parsed.value;
    if (seen.has(cardNumber)) {
      problems.push(lineProblem(index + 1, 'duplicate'));
      return;
    }
    seen.add(cardNumber);
    if (input.inStock(cardNumber) !== null) {
      problems.push({ code: 'CARD_ALREADY_IN_STOCK', details: { line: index + 1, cardNumber } });
      return;
    }
    cards.push({
      ...parsed.value,
      stationId: input.stationId,
      state: 'sealed',
      stateChangedAt: input.now,
      holder: null,
    });
  });
  return problems.length > 0 ? { ok: false, error: problems } : ok(cards);
};

/** What can happen to a card in stock. */
export type StockEvent =
  | { readonly type: 'issue'; readonly at: Instant; readonly holder: HsaId }
  | { readonly type: 'return'; readonly at: Instant }
  | { readonly type: 'destroy'; readonly at: Instant };

/**
 * sealed → issued → returned → destroyed, and sealed → destroyed (a damaged or expired card never
 * given out). A destroyed card is never usable again.
 */
const STOCK_TRANSITIONS: { readonly [E in StockEvent['type']]: Partial<Record<StockState, StockState>> } = {
  issue: { sealed: 'issued' },
  return: { issued: 'returned' },
  destroy: { sealed: 'destroyed', returned: 'destroyed' },
};

export const transitionStockCard = (card: StockCard, event: StockEvent): Result<StockCard> => {
  if (card.state === 'destroyed') return err('CARD_DESTROYED', { cardNumber: card.cardNumber });
  const next = STOCK_TRANSITIONS[event.type][card.state];
  if (next === undefined) {
    return err('CARD_STOCK_CONFLICT', { cardNumber: card.cardNumber, state: card.state, event: event.type });
  }
  return ok({
    ...card,
    state: next,
    stateChangedAt: event.at,
    holder: event.type === 'issue' ? event.holder : card.holder,
  });
};

/**
 * Whether a card number may be ordered at a card station for certificates valid through `lastDay`
 * (the order's last day of validity): it must be in stock, at that station, sealed, and last
 * physically at least as long as the certificates. One code per reason, the first that applies.
 */
export const stockProblem = (
  cardNumber: CardNumber,
  card: StockCard | null,
  stationId: BranchId,
  lastDay: CalendarDate,
): DomainError | null => {
  if (card === null) return { code: 'CARD_NOT_IN_STOCK', details: { cardNumber } };
  if (card.stationId !== stationId) return { code: 'CARD_AT_OTHER_STATION', details: { cardNumber } };
  if (card.state === 'destroyed') return { code: 'CARD_DESTROYED', details: { cardNumber } };
  if (card.state !== 'sealed') return { code: 'CARD_ALREADY_GIVEN', details: { cardNumber } };
  if (compareDates(card.physicalExpiry, lastDay) < 0) {
    return {
      code: 'CARD_PAST_PHYSICAL_EXPIRY',
      details: { physicalExpiry: formatDate(card.physicalExpiry) },
    };
  }
  return null;
};
