// The catalogue's scenarios for the training panel: for each SPEC §4 code, the scene to set (readers,
// cards, what the simulated workstation does) and what the trainee does next, in both languages.
import type { ErrorCode, Language } from '@reservkort/domain';
import type { TrainingCounters } from '../api/agent-client.js';
import type { TrainingDemo } from '../api/views.js';

/** What the workstation should do unlike a healthy one, to show a failure that needs a broken part. */
export interface Simulation {
  /** PIN dialogs the page leaves unopened (as if the agent could not show them). */
  readonly unopenedDialogs: readonly ('pin1' | 'pin2')[];
  /** The agent never answers a lit button (the page never gets the card re-read or the keys started). */
  readonly silentAgent: boolean;
  /** The agent signs its statements with a key and station id no server registered. */
  readonly unregisteredStation: boolean;
  /** The agent spoils the signature of its next statement (once). */
  readonly forgedStatement: boolean;
  /** The virtual cards are counterfeits: their proof is not the card bureau's key. */
  readonly counterfeitCard: boolean;
  /** The virtual cards' chips make keys outside the chip and report them as exportable. */
  readonly exportableKeys: boolean;
}

export const HEALTHY: Simulation = {
  unopenedDialogs: [],
  silentAgent: false,
  unregisteredStation: false,
  forgedStatement: false,
  counterfeitCard: false,
  exportableKeys: false,
};

export interface Scene {
  /** Readers that should be connected; the others are unplugged. */
  readonly readers: readonly (1 | 2)[];
  /** The card that goes in reader 1 (by the holder's name in the demo data), if any. */
  readonly adminCard: string | null;
  /** The PIN counters of that card; every scene sets them, full unless the scene says otherwise. */
  readonly counters: TrainingCounters;
  readonly simulation: Simulation;
}

export interface Scenario {
  /** Unique in the list; the code itself where one scenario shows the code. */
  readonly id: string;
  readonly code: ErrorCode;
  /** A short name, for scenarios that show a code in another place than its first one. */
  readonly name?: { readonly [L in Language]: string };
  readonly scene: Scene;
  readonly instruction: { readonly [L in Language]: string };
}

/** A scenario whose id is its code: the catalogue's own scenarios. */
type CodeScenario = Omit<Scenario, 'id'>;

const both: readonly (1 | 2)[] = [1, 2];
const scene = (adminCard: string | null, extra: Partial<Scene> = {}): Scene => ({
  readers: both,
  adminCard,
  counters: 'full',
  simulation: HEALTHY,
  ...extra,
});

/**
 * Scenes of the card's life after issuance, each with its own id (a code may already have a
 * scenario of the seven steps). New ones are added here.
 */
const cardLife: readonly Scenario[] = [
  {
    id: 'pin-blocked-card',
    code: 'PIN_BLOCKED',
    name: { sv: 'Blockerad PIN', en: 'Blocked PIN' },
    scene: scene('Admin Två', { counters: 'pin1-blocked' }),
    instruction: {
      sv: 'PIN 1 på kortet i kortläsare 1 är spärrad. Se vad inloggningen säger och lås upp PIN 1 med PUK-koden från PIN-brevet under Kort och PIN-koder.',
      en: 'PIN 1 of the card in card reader 1 is blocked. See what login says, and unblock PIN 1 with the PUK from the PIN letter under Card and PINs.',
    },
  },
  {
    id: 'card-locked',
    code: 'CARD_LOCKED',
    name: { sv: 'Låst kort', en: 'Locked card' },
    scene: scene('Admin Två', { counters: 'card-locked' }),
    instruction: {
      sv: 'PUK-koden för kortet i kortläsare 1 har angetts fel fler än tio gånger. Se vad inloggningen och Kort och PIN-koder säger. En annan övning ger kortet dess försök tillbaka.',
      en: 'The PUK of the card in card reader 1 was entered wrongly more than ten times. See what login and Card and PINs say. Another scenario gives the card its tries back.',
    },
  },
];

/** The training stock's 473 card whose physical life ends three days after the seed. */
const AGEING_STOCK_CARD = '9752 2789 0000 0000 298';

/** Scenes of the card's life that start from the demo's people. */
const cardLifeOrders = (demo: TrainingDemo): readonly Scenario[] => {
  const pnr = (first: string) => demo.persons.find((p) => p.name.startsWith(first))?.personalNumber ?? '';
  return [
    {
      id: 'card-past-physical-expiry',
      code: 'CARD_PAST_PHYSICAL_EXPIRY',
      name: { sv: 'Kort som snart är för gammalt', en: 'A card about to wear out' },
      scene: scene('Admin Två'),
      instruction: {
        sv: `Logga in, öppna Beställningar, sök fram ${pnr('Nils')} och beställ ett reservkort med kortet ${AGEING_STOCK_CARD} ur lagret: ett 473-kort vars fysiska livslängd tar slut om tre dagar.`,
        en: `Log in, open Orders, find ${pnr('Nils')} and order a reserve card with card ${AGEING_STOCK_CARD} from the stock: a 473 card whose physical life ends in three days.`,
      },
    },
    {
      id: 'second-extension',
      code: 'EXTENSION_ALREADY_USED',
      name: { sv: 'Andra förlängningen', en: 'A second extension' },
      scene: scene('Admin Två'),
      instruction: {
        sv: `Gör hela flödet för ${pnr('Anna')}. Logga sedan ut, öppna Mina sidor med Annas reservkort i kortläsare 1, förläng giltighetstiden och försök förlänga en gång till.`,
        en: `Complete the flow for ${pnr('Anna')}. Then log out, open My pages with Anna's reserve card in card reader 1, extend the validity and try to extend once more.`,
      },
    },
  ];
};

/** The scenarios, in the catalogue's order. `demo` supplies names, numbers and PIN letters. */
export const scenarios = (demo: TrainingDemo): readonly Scenario[] => [
  ...issuanceScenarios(demo).map((scenario) => ({ id: scenario.code, ...scenario })),
  ...cardLife,
  ...cardLifeOrders(demo),
];

/** The seven steps' scenarios, one per code, in the catalogue's order. */
const issuanceScenarios = (demo: TrainingDemo): readonly CodeScenario[] => {
  const person = (first: string) => demo.persons.find((p) => p.name.startsWith(first));
  const anna = person('Anna');
  const pnr = (first: string) => person(first)?.personalNumber ?? '';
  const spare = demo.reserveCards.find((c) => c.forPerson === null)?.cardNumber ?? '';
  const annaDigits = (anna?.personalNumber ?? '').replace('-', '');
  const tenDigits = `${annaDigits.slice(2, 8)}-${annaDigits.slice(8)}`;
  return [
    {
      code: 'READERS_MISSING',
      scene: scene('Admin Två', { readers: [1] }),
      instruction: {
        sv: 'Kortläsare 2 är urkopplad. Se varför inloggningen är spärrad.',
        en: 'Card reader 2 is unplugged. See why login is blocked.',
      },
    },
    {
      code: 'LOA2_LOGIN',
      scene: scene('Lena LoA2'),
      instruction: { sv: 'Logga in med Lenas LoA2-kort.', en: 'Log in with Lena’s LoA2 card.' },
    },
    {
      code: 'NO_ROLE_IN_BRANCH',
      scene: scene('Admin Tre'),
      instruction: { sv: `Logga in och sök på ${pnr('Anna')}.`, en: `Log in and search for ${pnr('Anna')}.` },
    },
    {
      code: 'HSA_ID_INCOMPLETE',
      scene: scene('Admin Två'),
      instruction: {
        sv: `Logga in och sök på "${anna?.hsaId.slice(-4) ?? ''}".`,
        en: `Log in and search for "${anna?.hsaId.slice(-4) ?? ''}".`,
      },
    },
    {
      code: 'PNR_FORMAT',
      scene: scene('Admin Två'),
      instruction: { sv: `Logga in och sök på ${tenDigits}.`, en: `Log in and search for ${tenDigits}.` },
    },
    {
      code: 'NO_ORDER',
      scene: scene('Admin Två'),
      instruction: { sv: `Logga in och sök på ${pnr('Nils')}.`, en: `Log in and search for ${pnr('Nils')}.` },
    },
    {
      code: 'OWN_ORDER',
      scene: scene('Admin Två'),
      instruction: { sv: `Logga in och sök på ${pnr('Bo')}.`, en: `Log in and search for ${pnr('Bo')}.` },
    },
    {
      code: 'PROTECTED_NEEDS_KUR',
      scene: scene('Admin Fyra'),
      instruction: {
        sv: `Logga in och sök på ${pnr('Stina')}.`,
        en: `Log in and search for ${pnr('Stina')}.`,
      },
    },
    {
      code: 'NOT_ELIGIBLE',
      scene: scene('Admin Två'),
      instruction: {
        sv: `Logga in och sök på ${pnr('Samir')}.`,
        en: `Log in and search for ${pnr('Samir')}.`,
      },
    },
    {
      code: 'ORDER_EXPIRED',
      scene: scene('Admin Två'),
      instruction: { sv: `Logga in och sök på ${pnr('Elsa')}.`, en: `Log in and search for ${pnr('Elsa')}.` },
    },
    {
      code: 'ORDER_USED',
      scene: scene('Admin Två'),
      instruction: {
        sv: `Gör hela flödet för ${pnr('Anna')} och sök sedan på henne igen.`,
        en: `Complete the flow for ${pnr('Anna')}, then search for her again.`,
      },
    },
    {
      code: 'CARD_REINSERTED',
      scene: scene('Admin Två'),
      instruction: {
        sv: 'Logga in, ta ut kortet ur kortläsare 1 och sätt i det igen innan du signerar.',
        en: 'Log in, take the card out of card reader 1 and put it back before you sign.',
      },
    },
    {
      code: 'SIGN_FAILED',
      scene: scene('Admin Två'),
      instruction: {
        sv: 'Välj beställningen och tryck SIGNERA, men avbryt PIN-dialogen.',
        en: 'Select the order and press SIGNERA, but cancel the PIN dialog.',
      },
    },
    {
      code: 'WRONG_CARD',
      scene: scene('Admin Två'),
      instruction: {
        sv: `Sätt i reservkort ${spare} i kortläsare 2 i steg 4.`,
        en: `Insert reserve card ${spare} in card reader 2 at step 4.`,
      },
    },
    {
      code: 'ONE_READER_USED',
      scene: scene('Admin Två'),
      instruction: {
        sv: 'Koppla ur kortläsare 2 en stund i steg 4 och anslut den igen.',
        en: 'Unplug card reader 2 for a moment at step 4 and connect it again.',
      },
    },
    {
      code: 'HANDOVER_STUCK',
      scene: scene('Admin Två', { simulation: { ...HEALTHY, silentAgent: true } }),
      instruction: {
        sv: 'Kortagenten svarar inte: tryck BEKRÄFTA ÖVERLÄMNING och vänta.',
        en: 'The card agent does not answer: press BEKRÄFTA ÖVERLÄMNING and wait.',
      },
    },
    {
      code: 'DOWNLOAD_START_STUCK',
      scene: scene('Admin Två'),
      instruction: {
        sv: 'Gå till steg 5, slå på "kortagenten svarar inte" och tryck STARTA NEDLADDNING.',
        en: 'Go to step 5, turn on "the card agent does not answer" and press STARTA NEDLADDNING.',
      },
    },
    {
      code: 'CARD_REMOVED_DURING_DOWNLOAD',
      scene: scene('Admin Två'),
      instruction: {
        sv: 'Ta ut reservkortet medan nycklarna skapas i steg 6.',
        en: 'Take the reserve card out while the keys are made at step 6.',
      },
    },
    {
      code: 'AUTH_DIALOG_NOT_SHOWN',
      scene: scene('Admin Två', { simulation: { ...HEALTHY, unopenedDialogs: ['pin1'] } }),
      instruction: {
        sv: 'PIN-dialogen för legitimering visas inte i steg 6. Vänta.',
        en: 'The authentication PIN dialog does not appear at step 6. Wait.',
      },
    },
    {
      code: 'SIGN_DIALOG_NOT_SHOWN',
      scene: scene('Admin Två', { simulation: { ...HEALTHY, unopenedDialogs: ['pin2'] } }),
      instruction: {
        sv: 'PIN-dialogen för underskrift visas inte i steg 6. Vänta.',
        en: 'The signature PIN dialog does not appear at step 6. Wait.',
      },
    },
    {
      code: 'PIN_BLOCKED',
      scene: scene('Admin Två'),
      instruction: {
        sv: 'Ange fel PIN 1 tre gånger i steg 6, så att kortet spärras.',
        en: 'Enter a wrong PIN 1 three times at step 6, so that the card blocks it.',
      },
    },
    {
      code: 'STATION_NOT_REGISTERED',
      scene: scene('Admin Två', { simulation: { ...HEALTHY, unregisteredStation: true } }),
      instruction: {
        sv: 'Kortagenten signerar med en nyckel som ingen har registrerat som kortstation. Logga in.',
        en: 'The card agent signs with a key nobody registered as a card station. Log in.',
      },
    },
    {
      code: 'STATEMENT_INVALID',
      scene: scene('Admin Två', { simulation: { ...HEALTHY, forgedStatement: true } }),
      instruction: {
        sv: 'Kortagentens nästa intyg har en förfalskad signatur. Logga in.',
        en: 'The card agent’s next statement carries a forged signature. Log in.',
      },
    },
    {
      code: 'CARD_NOT_PROVEN',
      scene: scene('Admin Två', { simulation: { ...HEALTHY, counterfeitCard: true } }),
      instruction: {
        sv: `Reservkortet är förfalskat: det saknar kortbyråns nyckel. Gör flödet för ${pnr('Anna')} och bekräfta överlämningen i steg 4.`,
        en: `The reserve card is counterfeit: it lacks the card bureau’s key. Do the flow for ${pnr('Anna')} and confirm the handover at step 4.`,
      },
    },
    {
      code: 'KEYS_NOT_ON_CARD',
      scene: scene('Admin Två', { simulation: { ...HEALTHY, exportableKeys: true } }),
      instruction: {
        sv: `Reservkortets chip är trasigt: nycklarna det skapar går att exportera. Gör flödet för ${pnr('Anna')} och starta nedladdningen i steg 5.`,
        en: `The reserve card’s chip is faulty: the keys it makes can be exported. Do the flow for ${pnr('Anna')} and start the download at step 5.`,
      },
    },
    {
      code: 'ACK_TIMEOUT',
      scene: scene('Admin Två'),
      instruction: {
        sv: 'I steg 7: hoppa fram till tidsgränsen i stället för att kvittera.',
        en: 'At step 7: jump to the deadline instead of acknowledging.',
      },
    },
  ];
};
