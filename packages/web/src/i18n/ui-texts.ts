// The page's own words (the error codes, step titles and control labels come from the domain's
// catalogues). One object per language; a missing text is a compile error.
import type { IdDocument, Language, OrderState } from '@reservkort/domain';

export interface UiTexts {
  readonly app: {
    readonly name: string;
    readonly skip: string;
    readonly language: string;
    readonly otherLanguage: string;
    readonly logout: string;
    readonly loggedInAs: string;
    readonly nav: {
      readonly issuance: string;
      readonly admin: string;
      readonly stations: string;
      readonly stock: string;
      readonly desk: string;
      readonly catalogue: string;
      readonly card: string;
      readonly insight: string;
    };
    readonly trainingBadge: string;
    readonly loading: string;
  };
  readonly agent: {
    readonly title: string;
    readonly version: string;
    readonly unreachableTitle: string;
    readonly unreachable: string;
    /** ORIGIN_FORBIDDEN, this page at another address than the portal's: {page}, {portal}. */
    readonly wrongAddress: string;
    /** Its remedy, with {portal} as a link. */
    readonly openPortal: string;
    /** ORIGIN_FORBIDDEN at the portal's own address: the agent is set up for another portal. */
    readonly otherPortal: string;
    readonly setUpAgent: string;
    readonly live: string;
    readonly reconnecting: string;
  };
  readonly readers: {
    readonly title: string;
    readonly reader: string;
    readonly connected: string;
    readonly missing: string;
    readonly empty: string;
    readonly card: string;
    readonly unreadable: string;
    readonly events: string;
    readonly noEvents: string;
    readonly role1: string;
    readonly role2: string;
    readonly event: {
      readonly 'reader-plugged': string;
      readonly 'reader-unplugged': string;
      readonly 'card-inserted': string;
      readonly 'card-removed': string;
    };
    readonly pictureMissing: string;
  };
  readonly login: {
    readonly preflight: string;
    readonly intro: string;
    readonly button: string;
    readonly noCard: string;
    readonly pinPrompt: string;
    readonly openDialog: string;
    readonly working: string;
  };
  /** The card tools: PIN change and PUK unblock of the card in reader 1, without logging in. */
  readonly cardTools: {
    readonly title: string;
    readonly intro: string;
    readonly fromLogin: string;
    /** The link from a PIN_BLOCKED panel elsewhere to this page. */
    readonly open: string;
    readonly back: string;
    readonly card: string;
    readonly counters: string;
    readonly puk: string;
    readonly triesLeft: string;
    readonly blocked: string;
    readonly locked: string;
    readonly change: string;
    readonly unblock: string;
    readonly changeBlocked: string;
    readonly cardLocked: string;
    readonly changing: string;
    readonly changed: string;
    readonly unblocked: string;
    readonly inDialog: string;
  };
  readonly extend: {
    readonly title: string;
    readonly intro: string;
    readonly whatHappens: readonly string[];
    /** {from}, {to}. */
    readonly newValidity: string;
    /** {time}. */
    readonly deadline: string;
    readonly termsTitle: string;
    readonly terms: string;
    readonly acceptTerms: string;
    readonly continue: string;
    readonly start: string;
    readonly cancel: string;
    readonly progressTitle: string;
    readonly steps: {
      readonly keys: string;
      readonly certificates: string;
      readonly writing: string;
      readonly acknowledge: string;
    };
    readonly stepState: {
      readonly waiting: string;
      readonly running: string;
      readonly done: string;
      readonly failed: string;
    };
    readonly acknowledgeTitle: string;
    readonly acknowledgeIntro: string;
    /** A page that came back to issued certificates not yet written to the card. */
    readonly acknowledgeIntroToWrite: string;
    readonly acknowledge: string;
    readonly working: string;
    readonly doneTitle: string;
    /** {to}. */
    readonly doneText: string;
    /** After EXTENSION_ABANDONED: the given-up one cannot go on, a new one may be started. */
    readonly startAgain: string;
    readonly newSerials: string;
    readonly loginAgain: string;
    readonly retry: string;
  };
  readonly holder: {
    /** The login page's way to the holder's own pages. */
    readonly link: string;
    readonly linkHint: string;
    readonly loginTitle: string;
    readonly loginIntro: string;
    readonly noCard: string;
    readonly login: string;
    readonly working: string;
    readonly back: string;
    readonly title: string;
    /** {name}, {hsaId}, {card}. */
    readonly greeting: string;
    readonly logout: string;
    readonly none: string;
    /** {card}. */
    readonly eid: string;
    /** {days}. */
    readonly daysLeft: string;
    readonly lastDay: string;
    /** An e-ID a förlängning just replaced: the list was read before and the session has ended. */
    readonly superseded: string;
    readonly statusLabel: string;
    readonly status: { readonly good: string; readonly expired: string; readonly revoked: string };
    readonly uses: { readonly authentication: string; readonly signature: string };
    readonly validity: string;
    readonly statusNow: string;
    /** {time}, {reason}. */
    readonly revokedAt: string;
    readonly extension: string;
    readonly sparr: {
      readonly title: string;
      readonly intro: string;
      readonly reason: string;
      readonly reasons: {
        readonly 'card-lost': string;
        readonly 'suspected-misuse': string;
        readonly 'card-damaged': string;
        readonly 'no-longer-needed': string;
        readonly 'card-locked': string;
        readonly 'left-organisation': string;
      };
      readonly confirm: string;
      readonly button: string;
      readonly working: string;
      /** {card}. */
      readonly done: string;
    };
    readonly revokedTitle: string;
    /** {card}, {time}. */
    readonly revokedText: string;
    readonly nextSteps: string;
    /** An administrator's or the service desk's view of a person's reserve cards. */
    readonly personEids: string;
    readonly deskSearchTitle: string;
    readonly deskSearchIntro: string;
  };
  readonly pin: {
    readonly pin1: string;
    readonly pin2: string;
    readonly waiting: string;
    readonly open: string;
    /** Why a PIN is asked when no step asks for one: the clean-up of an interrupted attempt's card. */
    readonly cleaning: string;
    /** The PUK unblock of a blocked PIN 1, offered on the login page. */
    readonly unblocking: string;
    readonly unblock: string;
    readonly unblocked: string;
    readonly unblockHint: string;
  };
  readonly flow: {
    readonly progress: string;
    readonly stepOf: string;
    readonly intro1: string;
    readonly searchLabel: string;
    readonly searchHint: string;
    readonly searchNormalised: string;
    readonly found: string;
    readonly review: {
      readonly name: string;
      readonly hsaId: string;
      readonly cardNumber: string;
      readonly organisation: string;
      readonly validity: string;
      readonly idDocument: string;
    };
    readonly intro4: string;
    readonly expectedCard: string;
    readonly cardInReader2: string;
    readonly intro5: string;
    readonly terms: string;
    readonly intro6: string;
    readonly phase: {
      readonly keys: string;
      readonly pin1: string;
      readonly pin2: string;
      readonly issuing: string;
      readonly writing: string;
    };
    readonly status: {
      readonly waiting: string;
      readonly doing: string;
      readonly done: string;
      /** The row where step 6 stopped on an error, and the rows it never reached. */
      readonly failed: string;
      readonly notStarted: string;
    };
    readonly intro7: string;
    readonly countdown: string;
    readonly deadlineAt: string;
    readonly revoking: string;
    readonly revoked: string;
    readonly completed: string;
    readonly newIssuance: string;
    readonly ended: string;
    /** A certificate's serial number, labelled with which certificate it is. */
    readonly serialAuth: string;
    readonly serialSign: string;
  };
  readonly error: {
    readonly what: string;
    readonly why: string;
    readonly remedy: string;
    readonly code: string;
    readonly catalogueLink: string;
    readonly disabledBecause: string;
    /** A disabled button whose reason is the error already shown above it. */
    readonly seeAbove: string;
  };
  readonly support: {
    readonly title: string;
    readonly intro: string;
    readonly admin1: string;
    readonly admin2: string;
    readonly recipient: string;
    readonly cardNumber: string;
    /** The card's product and last physical day from its station's stock: {product}, {expiry}. */
    readonly cardStock: string;
    readonly cardStockLabel: string;
    readonly agent: string;
    readonly certificates: string;
    readonly noCertificates: string;
    readonly timeline: string;
    readonly codes: string;
    readonly twoReaders: string;
    readonly yes: string;
    readonly no: string;
    readonly comment: string;
    readonly send: string;
    readonly cancel: string;
    readonly sent: string;
    readonly certificate: {
      readonly subject: string;
      readonly issuer: string;
      readonly serial: string;
      readonly validity: string;
      readonly keyUsage: string;
      readonly policy: string;
      readonly statusNow: string;
      readonly statuses: {
        readonly good: string;
        readonly expired: string;
        readonly unknown: string;
        readonly revoked: string;
      };
      /** RFC 5280's revocation reasons in words; any other shown as it came. */
      readonly reasons: Readonly<Record<string, string>>;
    };
    /** Earlier attempts on the same order, before a restart. */
    readonly attempts: string;
    readonly attempt: string;
    readonly attemptOutcomes: {
      readonly active: string;
      readonly completed: string;
      readonly 'ack-timeout-revoked': string;
      readonly aborted: string;
    };
    readonly attemptTimeline: string;
  };
  readonly admin: {
    readonly title: string;
    readonly intro: string;
    readonly searchLabel: string;
    readonly search: string;
    readonly person: string;
    readonly protected: string;
    readonly orders: string;
    readonly noOrders: string;
    readonly newOrder: string;
    readonly product: string;
    readonly cardNumber: string;
    readonly fromStock: string;
    readonly fromStockNone: string;
    readonly validFrom: string;
    readonly validTo: string;
    readonly idDocument: string;
    readonly idDocuments: { readonly [D in IdDocument]: string };
    readonly sign: string;
    readonly registered: string;
    readonly cancel: string;
    readonly cancelled: string;
    readonly state: { readonly [S in OrderState]: string };
    readonly loa2: string;
  };
  readonly stock: {
    readonly title: string;
    readonly intro: string;
    readonly station: string;
    readonly counts: string;
    readonly states: {
      readonly sealed: string;
      readonly issued: string;
      readonly returned: string;
      readonly destroyed: string;
    };
    readonly filter: string;
    readonly all: string;
    readonly cards: string;
    readonly cardNumber: string;
    readonly product: string;
    readonly physicalExpiry: string;
    readonly state: string;
    readonly changed: string;
    readonly empty: string;
    readonly importTitle: string;
    readonly importIntro: string;
    readonly paste: string;
    readonly file: string;
    readonly importButton: string;
    /** {count}, {batch}. */
    readonly imported: string;
    readonly problems: string;
    readonly returnTitle: string;
    readonly returnIntro: string;
    readonly returnCard: string;
    readonly cause: string;
    readonly causes: { readonly 'ordinary-card-back': string; readonly 'no-longer-needed': string };
    readonly returnButton: string;
    /** {card}. */
    readonly returned: string;
    readonly destroyTitle: string;
    readonly destroyCard: string;
    readonly why: string;
    readonly whys: { readonly damaged: string; readonly 'past-physical-expiry': string };
    readonly destroyButton: string;
    /** {card}. */
    readonly destroyed: string;
    readonly none: string;
  };
  readonly stations: {
    readonly title: string;
    readonly intro: string;
    readonly list: string;
    readonly empty: string;
    readonly name: string;
    readonly id: string;
    readonly branch: string;
    readonly status: string;
    readonly validTo: string;
    readonly statuses: { readonly active: string; readonly revoked: string; readonly expired: string };
    readonly thisStation: string;
    readonly revoke: string;
    readonly revoked: string;
    readonly register: string;
    readonly registerIntro: string;
    readonly stationName: string;
    readonly registerButton: string;
    readonly registered: string;
    readonly renewed: string;
    readonly thisWorkstation: string;
    readonly notRegistered: string;
  };
  readonly desk: {
    readonly title: string;
    readonly queue: string;
    readonly filterStatus: string;
    /** The queue's column of statuses. */
    readonly statusColumn: string;
    readonly all: string;
    readonly status: { readonly open: string; readonly assigned: string; readonly resolved: string };
    readonly empty: string;
    readonly case: string;
    readonly reportedBy: string;
    readonly assignee: string;
    readonly assign: string;
    readonly resolve: string;
    readonly comment: string;
    readonly addComment: string;
    readonly comments: string;
    readonly timeline: string;
    readonly catalogue: string;
    readonly back: string;
    readonly notDesk: string;
    readonly reporterComment: string;
    readonly search: string;
    readonly searchHint: string;
    readonly searchButton: string;
    readonly created: string;
    readonly sortBy: string;
    readonly noMatch: string;
    /** The reporter of a case filed before login: the card station that signed it. */
    readonly station: string;
  };
  readonly training: {
    readonly title: string;
    readonly open: string;
    readonly close: string;
    readonly readers: string;
    readonly plug: string;
    readonly unplug: string;
    readonly desk: string;
    readonly insertInto: string;
    readonly remove: string;
    readonly adminCards: string;
    readonly reserveCards: string;
    readonly pinLetter: string;
    readonly clock: string;
    readonly jump: string;
    /** Past the deadline of the förlängning running on the holder's pages. */
    readonly jumpExtension: string;
    readonly jumped: string;
    readonly scenarios: string;
    readonly tryIt: string;
    readonly persons: string;
    readonly dropHere: string;
    readonly simulate: string;
    readonly silentAgent: string;
    readonly unopenedDialog: string;
    readonly station: string;
    readonly unregisteredStation: string;
    readonly forgedStatement: string;
    readonly cards: string;
    readonly counterfeitCard: string;
    readonly exportableKeys: string;
  };
  readonly practice: {
    /** The button on a support case (training mode only). */
    readonly button: string;
    readonly title: string;
    readonly busy: string;
    readonly missingScene: string;
    readonly missingError: string;
    readonly readersSet: string;
    readonly unplugged: string;
    readonly empty: string;
    readonly holding: string;
    readonly role: { readonly admin: string; readonly reserve: string; readonly foreign: string };
    readonly reached: string;
    readonly sinceStart: string;
    readonly deadlineLeft: string;
    readonly deadlinePassed: string;
    readonly noDeadline: string;
    readonly walkTitle: string;
    readonly walkLogin: string;
    readonly walkStay: string;
    readonly walk: {
      readonly manage: string;
      readonly search: string;
      readonly select: string;
      readonly sign: string;
      readonly handover: string;
      readonly download: string;
      readonly pins: string;
    };
    readonly walkSearchHidden: string;
    readonly walkSearchAny: string;
    readonly walkNoReserve: string;
    readonly there: string;
    readonly whatToTry: string;
    readonly caseCodes: string;
    readonly reapply: string;
    readonly reapplyHint: string;
    readonly setClock: string;
    readonly clockSet: string;
    readonly end: string;
    readonly active: string;
  };
  readonly catalogue: { readonly title: string; readonly intro: string; readonly step: string };
  /** "Spela upp": a case's or a flow's screens played back, read-only. */
  readonly replay: {
    readonly open: string;
    readonly caseTitle: string;
    readonly flowTitle: string;
    readonly intro: string;
    readonly backCase: string;
    readonly backFlow: string;
    readonly toolbar: string;
    readonly play: string;
    readonly pause: string;
    readonly previous: string;
    readonly next: string;
    readonly slider: string;
    readonly speed: string;
    readonly frame: string;
    readonly time: string;
    readonly attempt: string;
    readonly notRecorded: string;
    readonly readers: string;
    readonly pending: string;
    readonly empty: string;
    readonly event: string;
    readonly status: {
      readonly completed: string;
      readonly 'ack-timeout-revoked': string;
      readonly aborted: string;
    };
    /** Whose card is in a reader, said only as a role. */
    readonly roles: {
      readonly admin: string;
      readonly recipient: string;
      readonly 'previous-recipient': string;
      readonly staff: string;
      readonly unknown: string;
    };
  };
}

const sv: UiTexts = {
  app: {
    name: 'Reservkort LoA3',
    skip: 'Hoppa till innehållet',
    language: 'Språk',
    otherLanguage: 'English',
    logout: 'Logga ut',
    loggedInAs: 'Inloggad: {name} ({assurance})',
    nav: {
      issuance: 'Utgivning',
      admin: 'Beställ reservkort',
      stations: 'Kortstationer',
      stock: 'Kortlager',
      desk: 'Servicedesk',
      catalogue: 'Felkatalog',
      card: 'Kort och PIN-koder',
      insight: 'Insikter',
    },
    trainingBadge: 'Övningsläge',
    loading: 'Laddar …',
  },
  agent: {
    title: 'Kortagent',
    version: 'Kortagent {version} ({packaging})',
    unreachableTitle: 'Kortagenten svarar inte',
    unreachable:
      'Sidan når inte kortagenten på {url}. Starta kortagenten på den här datorn (reservkort agent) och ladda om sidan.',
    wrongAddress:
      'Kortagenten på den här datorn är igång, men den svarar bara portalen på {portal}. Den här sidan är öppnad på {page}.',
    openPortal: 'Öppna portalen på {portal} och logga in där.',
    otherPortal:
      'Kortagenten på den här datorn är igång, men den är inställd för en annan portal än den här ({page}).',
    setUpAgent: 'Be IT-supporten ställa in kortagenten för {page} (reservkort agent --portal-origin {page}).',
    live: 'Ansluten till kortagenten',
    reconnecting: 'Tappade kontakten med kortagenten – ansluter igen …',
  },
  readers: {
    title: 'Kortläsare',
    reader: 'Kortläsare {n}',
    connected: 'Ansluten',
    missing: 'Saknas',
    empty: 'Inget kort',
    card: 'Kort {card}',
    unreadable: 'Kort utan läsbart kortnummer',
    events: 'Händelser',
    noEvents: 'Inga händelser än.',
    role1: 'Administratörens kort',
    role2: 'Reservkortet',
    event: {
      'reader-plugged': 'Kortläsare {n} ansluten',
      'reader-unplugged': 'Kortläsare {n} urkopplad',
      'card-inserted': 'Kort {card} isatt i kortläsare {n}',
      'card-removed': 'Kort uttaget ur kortläsare {n}',
    },
    pictureMissing: 'Bild: kortläsare {missing} saknas',
  },
  login: {
    preflight: 'Kontroll före inloggning',
    intro:
      'Båda kortläsarna ska vara anslutna. Ditt administratörskort sitter i kortläsare 1 under hela utgivningen; reservkortet sätts i kortläsare 2.',
    button: 'Logga in',
    noCard: 'Sätt i ditt kort i kortläsare 1.',
    pinPrompt: 'Ange PIN 1 i kortagentens fönster.',
    openDialog: 'Öppna PIN-dialogen',
    working: 'Loggar in …',
  },
  cardTools: {
    title: 'Kort och PIN-koder',
    intro:
      'Byt PIN-kod eller lås upp en spärrad PIN-kod med PUK-koden för kortet i kortläsare 1. Du behöver inte logga in. Koderna skriver du bara i kortagentens eget fönster; de når aldrig portalen eller servern.',
    fromLogin: 'Byta PIN-kod eller låsa upp med PUK-koden? Öppna Kort och PIN-koder.',
    open: 'Öppna Kort och PIN-koder',
    back: 'Tillbaka till inloggningen',
    card: 'Kort i kortläsare 1: {card}',
    counters: 'Försök kvar enligt kortet',
    puk: 'PUK-kod',
    triesLeft: '{n} försök kvar',
    blocked: 'Spärrad',
    locked: 'Låst för gott',
    change: 'Byt {pin}',
    unblock: 'Lås upp {pin} med PUK-koden',
    changeBlocked: '{pin} är spärrad och kan inte bytas: lås upp den med PUK-koden.',
    cardLocked: 'Kortet är låst för gott. Inga PIN-koder kan bytas eller låsas upp.',
    changing: 'Ange nuvarande {pin} och den nya två gånger i kortagentens fönster.',
    changed: '{pin} är bytt. Använd den nya PIN-koden från och med nu.',
    unblocked: '{pin} är upplåst och har fått den nya PIN-koden.',
    inDialog: 'Kortagentens fönster säger:',
  },
  extend: {
    title: 'Förläng giltighetstiden',
    intro:
      'Du kan förlänga reservkortets e-legitimation en gång, innan certifikaten går ut. Kortet får nya nycklar och nya certifikat; de gamla slutar gälla när du har kvitterat.',
    whatHappens: [
      'Du godkänner villkoren för de nya certifikaten.',
      'Kortet skapar två nya nycklar. Kortläsarprogrammet ber om PIN 1 och PIN 2 i sitt eget fönster.',
      'Nya certifikat utfärdas för de nycklar kortet har intygat och skrivs till kortet. De gamla nycklarna tas bort.',
      'Du kvitterar med PIN 2 och den nya underskriftsnyckeln. Först då spärras de gamla certifikaten.',
    ],
    newValidity: 'De nya certifikaten gäller från {from} till och med {to}.',
    deadline: 'Förlängningen måste vara klar senast {time}, annars spärras det som hunnit utfärdas.',
    termsTitle: 'Villkor',
    terms:
      'E-legitimationen är personlig. Du ansvarar för att ingen annan använder kortet eller får veta dina PIN-koder, och du spärrar den genast om kortet kommer bort.',
    acceptTerms: 'Jag godkänner villkoren',
    continue: 'Godkänn och hämta nya certifikat',
    start: 'Förläng giltighetstiden',
    cancel: 'Tillbaka till mina e-legitimationer',
    progressTitle: 'Förlängning pågår',
    steps: {
      keys: 'Nya nycklar skapas på kortet',
      certificates: 'Nya certifikat utfärdas',
      writing: 'Certifikaten skrivs till kortet och de gamla nycklarna tas bort',
      acknowledge: 'Kvittens med PIN 2',
    },
    stepState: { waiting: 'väntar', running: 'pågår', done: 'klart', failed: 'misslyckades' },
    acknowledgeTitle: 'Kvittera förlängningen',
    acknowledgeIntro:
      'De nya certifikaten finns nu på kortet. Kvittera med PIN 2: det visar att den nya underskriftsnyckeln fungerar.',
    acknowledgeIntroToWrite:
      'De nya certifikaten är utfärdade men ännu inte skrivna till kortet. När du kvitterar skrivs de först till kortet, och sedan kvitterar du med PIN 2 och den nya underskriftsnyckeln.',
    acknowledge: 'Kvittera med PIN 2',
    working: 'Arbetar…',
    doneTitle: 'Kortet är förlängt',
    doneText:
      'Din e-legitimation gäller nu till och med {to}. De gamla certifikaten är spärrade och du har loggats ut från dina sidor.',
    newSerials: 'Nya certifikat (serienummer)',
    loginAgain: 'Logga in igen med kortet',
    retry: 'Försök igen',
    startAgain: 'Starta en ny förlängning',
  },
  holder: {
    link: 'Mina sidor för dig som har ett reservkort',
    linkHint:
      'Se e-legitimationerna på ditt reservkort, hur länge de gäller, och spärra dem om kortet har kommit bort.',
    loginTitle: 'Mina sidor: logga in med ditt reservkort',
    loginIntro:
      'Sätt i ditt reservkort i kortläsare 1. Du anger PIN 1 i kortagentens eget fönster; sidan ser aldrig din PIN-kod.',
    noCard: 'Sätt i ditt reservkort i kortläsare 1.',
    login: 'Logga in med reservkortet',
    working: 'Loggar in …',
    back: 'Till inloggningen för ID-administratörer',
    title: 'Mina e-legitimationer',
    greeting: 'Inloggad som {name} ({hsaId}) med reservkort {card}.',
    logout: 'Logga ut',
    none: 'Det finns inga e-legitimationer på kortet.',
    eid: 'Reservkort {card}',
    daysLeft: '{days} dagar kvar',
    lastDay: 'Sista dagen i dag',
    superseded:
      'Ersatt av de nya certifikaten nedan. Certifikaten ovan är spärrade som ersatta och kan inte längre användas.',
    statusLabel: 'Status',
    status: { good: 'Giltig', expired: 'Har gått ut', revoked: 'Spärrad' },
    uses: { authentication: 'Legitimering (PIN 1)', signature: 'Underskrift (PIN 2)' },
    validity: 'Giltig',
    statusNow: 'Status nu enligt CA:n',
    revokedAt: 'Spärrat {time}: {reason}',
    extension: 'Förläng giltighetstiden',
    sparr: {
      title: 'Spärra e-legitimationen',
      intro:
        'Spärra om kortet har kommit bort, om någon annan kan ha använt det, eller om det är skadat. Båda certifikaten spärras direkt och spärren kan inte hävas.',
      reason: 'Orsak',
      reasons: {
        'card-lost': 'Kortet har kommit bort',
        'suspected-misuse': 'Misstänkt obehörig användning',
        'card-damaged': 'Kortet är skadat',
        'no-longer-needed': 'Kortet behövs inte längre',
        'card-locked': 'Kortet är låst för gott',
        'left-organisation': 'Innehavaren har lämnat organisationen',
      },
      confirm: 'Jag förstår att e-legitimationen inte kan användas igen efter spärren',
      button: 'Spärra',
      working: 'Spärrar …',
      done: 'E-legitimationen på reservkort {card} är spärrad.',
    },
    revokedTitle: 'Din e-legitimation är spärrad',
    revokedText:
      'Båda certifikaten på reservkort {card} spärrades {time}. Kortet kan inte längre användas för inloggning eller underskrift, och du har loggats ut.',
    nextSteps:
      'Kontakta en ID-administratör på din arbetsplats för att få ett nytt reservkort. Har du kvar kortet lämnar du tillbaka det till ID-administratören.',
    personEids: 'E-legitimationer på reservkort',
    deskSearchTitle: 'Sök person',
    deskSearchIntro: 'Personens e-legitimationer på reservkort, med status och spärr.',
  },
  pin: {
    pin1: 'PIN 1 (legitimering)',
    pin2: 'PIN 2 (underskrift)',
    waiting: 'Väntar på {pin} i kortagentens fönster.',
    open: 'Öppna fönstret för {pin}',
    cleaning:
      'Tar bort den avbrutna utgivningens nycklar från kortet i läsare 2, så att kortet kan användas igen. Ange {pin} för kortet i kortagentens fönster.',
    unblocking:
      'Lås upp {pin}: ange PUK-koden från kortets PIN-brev och en ny PIN-kod två gånger i kortagentens fönster.',
    unblock: 'Lås upp PIN 1 med PUK-koden',
    unblocked: 'PIN 1 är upplåst. Logga in med den nya PIN-koden.',
    unblockHint:
      'PUK-koden står i kortets PIN-brev. Du skriver den bara i kortagentens eget fönster; den når aldrig portalen.',
  },
  flow: {
    progress: 'Utgivningens steg',
    stepOf: 'Steg {n} av 7',
    intro1: 'Här hanterar du beställningar av reservkort som en annan administratör har registrerat.',
    searchLabel: 'Personnummer eller HSA-id',
    searchHint: 'Till exempel 19850412-9878 eller SE2321000016-p001.',
    searchNormalised: 'Sökte på {query}.',
    found: 'Beställning hittad för {name}.',
    review: {
      name: 'Kortmottagare',
      hsaId: 'HSA-id',
      cardNumber: 'Kortnummer',
      organisation: 'Organisation',
      validity: 'Giltighet',
      idDocument: 'Kontrollerad ID-handling',
    },
    intro4: 'Lämna över reservkortet. Kortmottagaren sätter i kortet i kortläsare 2.',
    expectedCard: 'Beställt kortnummer',
    cardInReader2: 'Kort i kortläsare 2',
    intro5: 'Kortmottagaren läser och accepterar villkoren för certifikaten.',
    terms:
      'Jag har tagit emot reservkortet, kontrollerat att kortnumret stämmer och förstår att kortet är personligt och ska kvitteras innan tiden går ut.',
    intro6: 'Nycklarna skapas på kortet. Ange PIN-koderna från PIN-brevet när fönstren visas.',
    phase: {
      keys: 'Nycklar skapas på kortet',
      pin1: 'PIN-dialog för legitimering (PIN 1)',
      pin2: 'PIN-dialog för underskrift (PIN 2)',
      issuing: 'Certifikaten utfärdas',
      writing: 'Certifikaten skrivs till kortet',
    },
    status: {
      waiting: 'Väntar',
      doing: 'Pågår',
      done: 'Klart',
      failed: 'Misslyckades',
      notStarted: 'Inte påbörjat',
    },
    intro7: 'Kortmottagaren kvitterar kortet med PIN 2 innan tiden går ut.',
    countdown: 'Tid kvar att kvittera: {time}',
    deadlineAt: 'Senast kl. {time}',
    revoking: 'Tiden har gått ut. Certifikaten spärras …',
    revoked: 'Tiden gick ut. Certifikaten är spärrade: {serials}.',
    completed: 'Kortet är kvitterat. Reservkortet är klart att använda.',
    newIssuance: 'Ny utgivning',
    ended: 'Utgivningen är avslutad.',
    serialAuth: 'Legitimeringscertifikat (autentisering), serienummer {serial}',
    serialSign: 'Underskriftscertifikat, serienummer {serial}',
  },
  error: {
    what: 'Vad hände',
    why: 'Varför',
    remedy: 'Vad gör jag',
    code: 'Felkod',
    catalogueLink: 'Om felkoden {code} i felkatalogen',
    disabledBecause: 'Knappen är inte tillgänglig:',
    seeAbove: 'Se felet ovan.',
  },
  support: {
    title: 'Felanmälan',
    intro: 'Allt som systemet redan vet är ifyllt. Lägg gärna till en kommentar.',
    admin1: 'HSA-id administratör 1 (beställare)',
    admin2: 'HSA-id administratör 2 (utfärdare)',
    recipient: 'HSA-id kortmottagare',
    cardNumber: 'Reservkortets kortnummer',
    cardStockLabel: 'Kortprodukt och fysisk giltighet',
    cardStock: 'Kortprodukt {product}, fysiskt giltigt till och med {expiry}',
    agent: 'Kortagentens version och paketering',
    certificates: 'Certifikat på kortet',
    noCertificates: 'Inga certifikat på kortet.',
    timeline: 'Tidslinje',
    codes: 'Felkoder',
    twoReaders: 'Två kortläsare under hela utgivningen',
    yes: 'Ja',
    no: 'Nej',
    comment: 'Kommentar (frivillig)',
    send: 'Skicka felanmälan',
    cancel: 'Stäng',
    sent: 'Felanmälan {id} är skickad till servicedesken.',
    certificate: {
      subject: 'Innehavare',
      issuer: 'Utfärdare',
      serial: 'Serienummer',
      validity: 'Giltighet',
      keyUsage: 'Nyckelanvändning',
      policy: 'Policy',
      statusNow: 'Status nu enligt CA:n',
      statuses: {
        good: 'Giltigt',
        expired: 'Har gått ut',
        unknown: 'Okänt för CA:n (inte utfärdat här)',
        revoked: 'Spärrat {time}: {reason}',
      },
      reasons: {
        unspecified: 'ospecificerad orsak',
        keyCompromise: 'nyckeln röjd',
        cACompromise: 'CA:n röjd',
        affiliationChanged: 'anknytningen ändrad',
        superseded: 'ersatt',
        cessationOfOperation: 'upphört',
        certificateHold: 'tillfälligt spärrat',
        privilegeWithdrawn: 'behörigheten återkallad',
      },
    },
    attempts: 'Tidigare försök på beställningen',
    attempt: 'Försök {n}, påbörjat {date} {time} av {admin}: {outcome}, nådde steg {step}.',
    attemptOutcomes: {
      active: 'pågår',
      completed: 'slutfört',
      'ack-timeout-revoked': 'kvitterades inte i tid',
      aborted: 'avbrutet',
    },
    attemptTimeline: 'Tidslinje för försök {n}',
  },
  admin: {
    title: 'Beställ reservkort',
    intro:
      'Sök fram personen, registrera beställningen "SITHS e-ID LoA3 till reservkort" och signera den med ditt kort.',
    searchLabel: 'Personnummer eller HSA-id',
    search: 'Sök person',
    person: 'Person',
    protected: 'Skyddad identitet',
    orders: 'Beställda reservkort LoA3',
    noOrders: 'Inga beställningar.',
    newOrder: 'SITHS e-ID LoA3 till reservkort',
    fromStock: 'Välj ett förseglat kort ur kortstationens lager',
    fromStockNone: '– eller skriv kortnumret nedan –',
    product: 'Produkt',
    cardNumber: 'Reservkortets kortnummer',
    validFrom: 'Giltig från',
    validTo: 'Giltig till',
    idDocument: 'Kontrollerad ID-handling',
    idDocuments: {
      'swedish-passport': 'Svenskt pass',
      'swedish-driving-licence': 'Svenskt körkort',
      'national-id-card': 'Nationellt id-kort',
      'sis-id-card': 'SIS-märkt id-kort',
      'skatteverket-id-card': 'Skatteverkets id-kort',
      'foreign-passport': 'Utländskt pass',
      other: 'Annan handling',
    },
    sign: 'Signera beställningen',
    registered: 'Beställningen är registrerad och signerad.',
    cancel: 'Makulera',
    cancelled: 'Beställningen är makulerad.',
    state: {
      registered: 'Registrerad',
      in_progress: 'Under utgivning',
      completed: 'Utfärdad',
      cancelled: 'Makulerad',
      expired: 'Utgången',
    },
    loa2: 'Du är inloggad med ett LoA2-kort och kan inte registrera beställningar.',
  },
  stock: {
    title: 'Kortlager',
    intro:
      'Kortstationens reservkort: förseglade kort som kortbyrån levererat, kort som lämnats ut, och kort som lämnats tillbaka och förstörts.',
    station: 'Kortstation',
    counts: 'Antal kort per läge',
    states: { sealed: 'Förseglade', issued: 'Utlämnade', returned: 'Återlämnade', destroyed: 'Förstörda' },
    filter: 'Visa',
    all: 'Alla',
    cards: 'Kort',
    cardNumber: 'Kortnummer',
    product: 'Kortprodukt',
    physicalExpiry: 'Fysiskt giltigt till och med',
    state: 'Läge',
    changed: 'Ändrat',
    empty: 'Inga kort.',
    importTitle: 'Läs in en bunt',
    importIntro:
      'Klistra in buntens rader från kortbyrån eller välj CSV-filen. Första raden namnger kolumnerna: card_number, product, manufactured och (valfritt) physical_expiry. Hela bunten läses in, eller ingenting.',
    paste: 'Buntens rader (CSV)',
    file: 'Eller välj en CSV-fil',
    importButton: 'Läs in bunten',
    imported: '{count} kort lästes in som förseglade (bunt {batch}).',
    problems: 'Inget kort lästes in. Rätta raderna nedan och läs in hela bunten igen:',
    returnTitle: 'Registrera återlämning',
    returnIntro:
      'När kortet kommer tillbaka spärras dess e-legitimation och kortet förstörs. Det kan aldrig användas igen.',
    returnCard: 'Utlämnat kort',
    cause: 'Orsak',
    causes: {
      'ordinary-card-back': 'Det ordinarie kortet är tillbaka (ersätts)',
      'no-longer-needed': 'Kortet behövs inte längre',
    },
    returnButton: 'Registrera återlämning',
    returned: 'Kortet {card} är återlämnat: e-legitimationen är spärrad och kortet förstört.',
    destroyTitle: 'Förstör ett förseglat kort',
    destroyCard: 'Förseglat kort',
    why: 'Skäl',
    whys: { damaged: 'Kortet är skadat', 'past-physical-expiry': 'Kortet är fysiskt utgånget' },
    destroyButton: 'Förstör kortet',
    destroyed: 'Kortet {card} är förstört.',
    none: 'Inga kort i det läget.',
  },
  stations: {
    title: 'Kortstationer',
    intro:
      'En kortstation är en arbetsplats vars kortagent servern litar på: den signerar det den ser av läsare, kort och nycklar. Registrera den här arbetsplatsen innan du ger ut reservkort här, och spärra en station som inte längre ska användas.',
    list: 'Kortstationer på dina enheter',
    empty: 'Inga kortstationer är registrerade på dina enheter.',
    name: 'Namn',
    id: 'Stations-id',
    branch: 'Enhet',
    status: 'Status',
    validTo: 'Certifikatet gäller till',
    statuses: { active: 'Aktiv', revoked: 'Spärrad', expired: 'Utgången' },
    thisStation: 'den här arbetsplatsen',
    revoke: 'Spärra',
    revoked: 'Kortstationen {id} är spärrad.',
    register: 'Registrera den här arbetsplatsen',
    registerIntro:
      'Kortagenten skapar en egen nyckel och servern utfärdar ett stationscertifikat för den. Att registrera igen förnyar certifikatet.',
    stationName: 'Namn på kortstationen',
    registerButton: 'Registrera kortstationen',
    registered: 'Den här arbetsplatsen är registrerad som kortstation {id}.',
    renewed: 'Kortstationen {id} har fått ett nytt certifikat.',
    thisWorkstation: 'Den här arbetsplatsen: {status}',
    notRegistered: 'inte registrerad',
  },
  desk: {
    title: 'Servicedesk',
    queue: 'Felanmälningar',
    filterStatus: 'Visa',
    statusColumn: 'Status',
    all: 'Alla',
    status: { open: 'Ny', assigned: 'Tilldelad', resolved: 'Löst' },
    empty: 'Inga felanmälningar.',
    case: 'Ärende {id}',
    reportedBy: 'Anmäld av',
    assignee: 'Handläggare',
    assign: 'Ta ärendet',
    resolve: 'Markera som löst',
    comment: 'Ny kommentar',
    addComment: 'Lägg till kommentar',
    comments: 'Kommentarer',
    timeline: 'Tidslinje',
    catalogue: 'Ur felkatalogen',
    back: 'Tillbaka till kön',
    reporterComment: 'Anmälarens kommentar',
    notDesk: 'Endast servicedesken ser kön.',
    search: 'Sök i kön',
    searchHint: 'Ärende, anmälare, kortmottagare, kortnummer, felkod eller handläggare.',
    searchButton: 'Sök',
    created: 'Anmäld',
    sortBy: 'Sortera på {column}',
    noMatch: 'Inga felanmälningar matchar sökningen.',
    station: 'Kortstation {id} (före inloggning)',
  },
  training: {
    title: 'Övningspanel',
    open: 'Öppna övningspanelen',
    close: 'Stäng övningspanelen',
    readers: 'Virtuella kortläsare',
    plug: 'Anslut',
    unplug: 'Koppla ur',
    desk: 'Kort på bordet',
    insertInto: 'Sätt i läsare {n}',
    remove: 'Ta ut',
    adminCards: 'Administratörernas kort',
    reserveCards: 'Förseglade reservkort',
    pinLetter: 'PIN-brev: PIN 1 {pin1}, PIN 2 {pin2}, PUK {puk}',
    clock: 'Klockan',
    jump: 'Hoppa fram till tidsgränsen',
    jumpExtension: 'Hoppa fram till förlängningens tidsgräns',
    jumped: 'Klockan är framflyttad {minutes} min.',
    scenarios: 'Prova felkatalogen',
    tryIt: 'Prova',
    persons: 'Personer att söka på',
    dropHere: 'Släpp ett kort här',
    simulate: 'Simulera fel på arbetsplatsen',
    silentAgent: 'Kortagenten svarar inte på knapptryck',
    unopenedDialog: 'Visa inte dialogen för {pin}',
    station: 'Simulera fel på kortstationen',
    unregisteredStation: 'Kortagenten är ingen registrerad kortstation',
    forgedStatement: 'Nästa intyg från kortagenten är förfalskat',
    cards: 'Simulera fel på reservkortet',
    counterfeitCard: 'Kort utan kortbyråns nyckel (förfalskat kort)',
    exportableKeys: 'Nycklar som kan exporteras (trasigt chip)',
  },
  practice: {
    button: 'Öva på det här',
    title: 'Övning på ärende {id}',
    busy: 'Ställer läsarna och korten …',
    missingScene:
      'Ärendet går inte att öva på: det lämnades in innan flödet sparade hur skärmen såg ut efter varje händelse. Läsarna och korten vid felet ({code}) går inte att återskapa utan att gissa.',
    missingError: 'Ärendet har ingen händelse med en felkod att öva på.',
    readersSet: 'Kortläsarna och korten står nu som när felet kom:',
    unplugged: 'urkopplad',
    empty: 'ansluten, tom',
    holding: 'ansluten, med {card}',
    role: {
      admin: '{name}s kort {number}',
      reserve: 'reservkortet {number}',
      foreign: 'ett kort som inte hör till någon, {number}',
    },
    reached: 'Flödet hade kommit till steg {step}: {name}.',
    sinceStart: 'Felet kom {time} in i försöket.',
    deadlineLeft: 'Det var {time} kvar att kvittera kortet.',
    deadlinePassed: 'Tiden för att kvittera kortet hade gått ut.',
    noDeadline: 'Ingen tid för kvittering löpte, så klockan behöver inte flyttas.',
    walkTitle: 'Gå fram till steg {step} så här:',
    walkLogin:
      'Logga ut och logga in med {name}s kort i kortläsare 1 (PIN 1 {pin1}). Båda kortläsarna ska vara anslutna.',
    walkStay: 'Felet kom på inloggningssidan: logga ut och se vad inloggningen säger.',
    walk: {
      manage: 'Tryck Hantera beställningar.',
      search: 'Sök på {person}.',
      select: 'Välj beställningen.',
      sign: 'Granska underlaget och tryck SIGNERA (PIN 2 {pin2}).',
      handover: 'Sätt i reservkort {card} i kortläsare 2 och tryck BEKRÄFTA ÖVERLÄMNING.',
      download: 'Acceptera villkoren och tryck STARTA NEDLADDNING.',
      pins: 'Ange reservkortets PIN-koder från PIN-brevet när dialogerna visas (PIN 1 {pin1}, PIN 2 {pin2}).',
    },
    walkSearchHidden: 'Sök på beställningens mottagare (skyddad identitet: visas inte här).',
    walkSearchAny: 'Sök på en person med en beställning (se Personer att söka på).',
    walkNoReserve: 'Sätt i ett förseglat reservkort i kortläsare 2 och tryck BEKRÄFTA ÖVERLÄMNING.',
    there: 'Där hände det:',
    whatToTry: 'Vad du ska prova:',
    caseCodes: 'Alla koder i ärendet: {codes}',
    reapply: 'Ställ läsarna som i ärendet',
    reapplyHint:
      'Framme i steg {step}: tryck Ställ läsarna som i ärendet (här eller i övningspanelen), så står läsarna och korten som när felet kom.',
    setClock: 'Ställ klockan som i ärendet',
    clockSet: 'Klockan är framflyttad så att det är {time} kvar att kvittera.',
    end: 'Avsluta övningen',
    active: 'Pågående övning',
  },
  catalogue: {
    title: 'Felkatalog',
    intro: 'Alla felkoder med förklaring och åtgärd.',
    step: 'Steg',
  },
  replay: {
    open: 'Spela upp',
    caseTitle: 'Spela upp ärende {id}',
    flowTitle: 'Spela upp utgivning {id}',
    intro:
      'Skärmen som administratören såg den efter varje händelse. Uppspelningen ändrar ingenting och läser inget kort.',
    backCase: 'Tillbaka till ärendet',
    backFlow: 'Tillbaka till utgivningen',
    toolbar: 'Uppspelning',
    play: 'Spela',
    pause: 'Pausa',
    previous: 'Föregående händelse',
    next: 'Nästa händelse',
    slider: 'Tidpunkt',
    speed: 'Hastighet',
    frame: 'Händelse {n} av {count}',
    time: '{date} kl. {time} (svensk tid)',
    attempt: 'Försök {n}',
    notRecorded:
      'Läsarnas och kortens läge registrerades inte för den här tidpunkten: händelsen loggades innan sådant sparades. Steg och felkoder är de som loggades.',
    readers: 'Kortläsare och kort',
    pending: 'Knappen ”{control}” var tryckt och väntade på kortagenten sedan kl. {time}.',
    empty: 'Det finns inga händelser att spela upp.',
    event: 'Händelse',
    status: {
      completed: 'Utgivningen var slutförd.',
      'ack-timeout-revoked': 'Tiden för kvittens hade gått ut och certifikaten var spärrade.',
      aborted: 'Utgivningen var avbruten.',
    },
    roles: {
      admin: 'administratörens kort',
      recipient: 'mottagarens kort',
      'previous-recipient': 'en tidigare mottagares kort',
      staff: 'en annan anställds kort',
      unknown: 'okänt kort',
    },
  },
};

const en: UiTexts = {
  app: {
    name: 'Reserve card LoA3',
    skip: 'Skip to content',
    language: 'Language',
    otherLanguage: 'Svenska',
    logout: 'Log out',
    loggedInAs: 'Logged in: {name} ({assurance})',
    nav: {
      issuance: 'Issuance',
      admin: 'Order a reserve card',
      stations: 'Card stations',
      stock: 'Card stock',
      desk: 'Service desk',
      catalogue: 'Error catalogue',
      card: 'Card and PINs',
      insight: 'Insights',
    },
    trainingBadge: 'Training mode',
    loading: 'Loading …',
  },
  agent: {
    title: 'Card agent',
    version: 'Card agent {version} ({packaging})',
    unreachableTitle: 'The card agent does not answer',
    unreachable:
      'The page cannot reach the card agent at {url}. Start the card agent on this computer (reservkort agent) and reload the page.',
    wrongAddress:
      'The card agent on this computer is running, but it answers only the portal at {portal}. This page was opened at {page}.',
    openPortal: 'Open the portal at {portal} and log in there.',
    otherPortal:
      'The card agent on this computer is running, but it is set up for another portal than this one ({page}).',
    setUpAgent:
      'Ask IT support to set the card agent up for {page} (reservkort agent --portal-origin {page}).',
    live: 'Connected to the card agent',
    reconnecting: 'Lost the card agent – reconnecting …',
  },
  readers: {
    title: 'Card readers',
    reader: 'Card reader {n}',
    connected: 'Connected',
    missing: 'Missing',
    empty: 'No card',
    card: 'Card {card}',
    unreadable: 'Card without a readable card number',
    events: 'Events',
    noEvents: 'No events yet.',
    role1: 'The administrator’s card',
    role2: 'The reserve card',
    event: {
      'reader-plugged': 'Card reader {n} connected',
      'reader-unplugged': 'Card reader {n} unplugged',
      'card-inserted': 'Card {card} inserted in card reader {n}',
      'card-removed': 'Card removed from card reader {n}',
    },
    pictureMissing: 'Picture: card reader {missing} is missing',
  },
  login: {
    preflight: 'Check before login',
    intro:
      'Both card readers must be connected. Your administrator card stays in card reader 1 for the whole issuance; the reserve card goes in card reader 2.',
    button: 'Log in',
    noCard: 'Insert your card in card reader 1.',
    pinPrompt: 'Enter PIN 1 in the card agent’s window.',
    openDialog: 'Open the PIN dialog',
    working: 'Logging in …',
  },
  cardTools: {
    title: 'Card and PINs',
    intro:
      'Change a PIN, or unblock a blocked PIN with the PUK, for the card in card reader 1. You need not log in. You type the codes only in the card agent’s own window; they never reach the portal or the server.',
    fromLogin: 'Change a PIN or unblock one with the PUK? Open Card and PINs.',
    open: 'Open Card and PINs',
    back: 'Back to login',
    card: 'Card in card reader 1: {card}',
    counters: 'Tries left, as the card reports them',
    puk: 'PUK',
    triesLeft: 'Tries left: {n}',
    blocked: 'Blocked',
    locked: 'Locked for good',
    change: 'Change {pin}',
    unblock: 'Unblock {pin} with the PUK',
    changeBlocked: '{pin} is blocked and cannot be changed: unblock it with the PUK.',
    cardLocked: 'The card is locked for good. No PIN can be changed or unblocked.',
    changing: 'Enter the current {pin} and the new one twice in the card agent’s window.',
    changed: '{pin} is changed. Use the new PIN from now on.',
    unblocked: '{pin} is unblocked and has the new PIN.',
    inDialog: 'The card agent’s window says:',
  },
  extend: {
    title: 'Extend the validity',
    intro:
      "You can extend the reserve card's e-ID once, before its certificates expire. The card gets new keys and new certificates; the old ones stop being valid once you have acknowledged.",
    whatHappens: [
      'You accept the terms of the new certificates.',
      'The card makes two new keys. The card reader program asks for PIN 1 and PIN 2 in its own window.',
      'New certificates are issued for the keys the card vouched for and written to the card. The old keys are removed.',
      'You acknowledge with PIN 2 and the new signature key. Only then are the old certificates revoked.',
    ],
    newValidity: 'The new certificates are valid from {from} to {to} inclusive.',
    deadline: 'The extension must be finished by {time}; otherwise what was issued is revoked.',
    termsTitle: 'Terms',
    terms:
      'The e-ID is personal. You make sure nobody else uses the card or learns your PINs, and you revoke it at once if the card is lost.',
    acceptTerms: 'I accept the terms',
    continue: 'Accept and fetch new certificates',
    start: 'Extend the validity',
    cancel: 'Back to my e-IDs',
    progressTitle: 'Extension in progress',
    steps: {
      keys: 'New keys are made on the card',
      certificates: 'New certificates are issued',
      writing: 'The certificates are written to the card and the old keys removed',
      acknowledge: 'Acknowledgement with PIN 2',
    },
    stepState: { waiting: 'waiting', running: 'in progress', done: 'done', failed: 'failed' },
    acknowledgeTitle: 'Acknowledge the extension',
    acknowledgeIntro:
      'The new certificates are on the card now. Acknowledge with PIN 2: it shows that the new signature key works.',
    acknowledgeIntroToWrite:
      'The new certificates are issued but not yet written to the card. When you acknowledge, they are written to the card first, and then you acknowledge with PIN 2 and the new signature key.',
    acknowledge: 'Acknowledge with PIN 2',
    working: 'Working…',
    doneTitle: 'The card is extended',
    doneText:
      'Your e-ID is now valid until {to} inclusive. The old certificates are revoked and you have been logged out of your pages.',
    newSerials: 'New certificates (serial numbers)',
    loginAgain: 'Log in again with the card',
    retry: 'Try again',
    startAgain: 'Start a new extension',
  },
  holder: {
    link: 'My pages for reserve card holders',
    linkHint:
      'See the e-IDs on your reserve card, how long they are valid, and revoke them if the card is lost.',
    loginTitle: 'My pages: log in with your reserve card',
    loginIntro:
      'Insert your reserve card in card reader 1. You enter PIN 1 in the card agent’s own window; this page never sees your PIN.',
    noCard: 'Insert your reserve card in card reader 1.',
    login: 'Log in with the reserve card',
    working: 'Logging in …',
    back: 'To the login for ID administrators',
    title: 'My e-IDs',
    greeting: 'Logged in as {name} ({hsaId}) with reserve card {card}.',
    logout: 'Log out',
    none: 'There are no e-IDs on the card.',
    eid: 'Reserve card {card}',
    daysLeft: '{days} days left',
    lastDay: 'Last day today',
    superseded:
      'Replaced by the new certificates below. The certificates above are revoked as superseded and can no longer be used.',
    statusLabel: 'Status',
    status: { good: 'Valid', expired: 'Expired', revoked: 'Revoked' },
    uses: { authentication: 'Authentication (PIN 1)', signature: 'Signature (PIN 2)' },
    validity: 'Valid',
    statusNow: 'Status now according to the CA',
    revokedAt: 'Revoked {time}: {reason}',
    extension: 'Extend the validity',
    sparr: {
      title: 'Revoke the e-ID',
      intro:
        'Revoke if the card is lost, if someone else may have used it, or if it is damaged. Both certificates are revoked at once and the revocation cannot be undone.',
      reason: 'Reason',
      reasons: {
        'card-lost': 'The card is lost',
        'suspected-misuse': 'Suspected misuse',
        'card-damaged': 'The card is damaged',
        'no-longer-needed': 'The card is no longer needed',
        'card-locked': 'The card is locked for good',
        'left-organisation': 'The holder has left the organisation',
      },
      confirm: 'I understand that the e-ID cannot be used again after the revocation',
      button: 'Revoke',
      working: 'Revoking …',
      done: 'The e-ID on reserve card {card} is revoked.',
    },
    revokedTitle: 'Your e-ID is revoked',
    revokedText:
      'Both certificates on reserve card {card} were revoked {time}. The card can no longer be used to log in or sign, and you have been logged out.',
    nextSteps:
      'Contact an ID administrator at your workplace to get a new reserve card. If you still have the card, hand it back to the ID administrator.',
    personEids: 'E-IDs on reserve cards',
    deskSearchTitle: 'Find a person',
    deskSearchIntro: 'The person’s e-IDs on reserve cards, with their status and revocation.',
  },
  pin: {
    pin1: 'PIN 1 (authentication)',
    pin2: 'PIN 2 (signature)',
    waiting: 'Waiting for {pin} in the card agent’s window.',
    open: 'Open the window for {pin}',
    cleaning:
      'Removing the interrupted issuance’s keys from the card in reader 2, so that the card can be used again. Enter the card’s {pin} in the card agent’s window.',
    unblocking:
      'Unblock {pin}: enter the PUK from the card’s PIN letter and a new PIN twice in the card agent’s window.',
    unblock: 'Unblock PIN 1 with the PUK',
    unblocked: 'PIN 1 is unblocked. Log in with the new PIN.',
    unblockHint:
      'The PUK is in the card’s PIN letter. You type it only in the card agent’s own window; it never reaches the portal.',
  },
  flow: {
    progress: 'Steps of the issuance',
    stepOf: 'Step {n} of 7',
    intro1: 'Here you handle reserve card orders that another administrator registered.',
    searchLabel: 'Personal identity number or HSA-id',
    searchHint: 'For example 19850412-9878 or SE2321000016-p001.',
    searchNormalised: 'Searched for {query}.',
    found: 'Order found for {name}.',
    review: {
      name: 'Recipient',
      hsaId: 'HSA-id',
      cardNumber: 'Card number',
      organisation: 'Organisation',
      validity: 'Validity',
      idDocument: 'ID document checked',
    },
    intro4: 'Hand over the reserve card. The recipient inserts it in card reader 2.',
    expectedCard: 'Card number ordered',
    cardInReader2: 'Card in card reader 2',
    intro5: 'The recipient reads and accepts the terms of the certificates.',
    terms:
      'I have received the reserve card, checked that the card number matches, and understand that the card is personal and must be acknowledged before the time runs out.',
    intro6: 'The keys are made on the card. Enter the PINs from the PIN letter when the windows appear.',
    phase: {
      keys: 'Keys are made on the card',
      pin1: 'PIN dialog for authentication (PIN 1)',
      pin2: 'PIN dialog for signature (PIN 2)',
      issuing: 'The certificates are issued',
      writing: 'The certificates are written to the card',
    },
    status: {
      waiting: 'Waiting',
      doing: 'In progress',
      done: 'Done',
      failed: 'Failed',
      notStarted: 'Not started',
    },
    intro7: 'The recipient acknowledges the card with PIN 2 before the time runs out.',
    countdown: 'Time left to acknowledge: {time}',
    deadlineAt: 'By {time}',
    revoking: 'The time has run out. The certificates are being revoked …',
    revoked: 'The time ran out. The certificates are revoked: {serials}.',
    completed: 'The card is acknowledged. The reserve card is ready to use.',
    newIssuance: 'New issuance',
    ended: 'The issuance has ended.',
    serialAuth: 'Authentication certificate, serial number {serial}',
    serialSign: 'Signature certificate, serial number {serial}',
  },
  error: {
    what: 'What happened',
    why: 'Why',
    remedy: 'What to do',
    code: 'Error code',
    catalogueLink: 'About error code {code} in the error catalogue',
    disabledBecause: 'The button is not available:',
    seeAbove: 'See the error above.',
  },
  support: {
    title: 'Error report',
    intro: 'Everything the system already knows is filled in. Add a comment if you like.',
    admin1: 'HSA-id of administrator 1 (ordered)',
    admin2: 'HSA-id of administrator 2 (issued)',
    recipient: 'HSA-id of the recipient',
    cardNumber: 'Reserve card number',
    cardStockLabel: 'Card product and physical expiry',
    cardStock: 'Card product {product}, physically usable through {expiry}',
    agent: 'Card agent version and packaging',
    certificates: 'Certificates on the card',
    noCertificates: 'No certificates on the card.',
    timeline: 'Timeline',
    codes: 'Error codes',
    twoReaders: 'Two card readers throughout the issuance',
    yes: 'Yes',
    no: 'No',
    comment: 'Comment (optional)',
    send: 'Send error report',
    cancel: 'Close',
    sent: 'Error report {id} has been sent to the service desk.',
    certificate: {
      subject: 'Subject',
      issuer: 'Issuer',
      serial: 'Serial number',
      validity: 'Validity',
      keyUsage: 'Key usage',
      policy: 'Policy',
      statusNow: 'Status now according to the CA',
      statuses: {
        good: 'Valid',
        expired: 'Expired',
        unknown: 'Unknown to the CA (not issued here)',
        revoked: 'Revoked {time}: {reason}',
      },
      reasons: {
        unspecified: 'unspecified reason',
        keyCompromise: 'key compromised',
        cACompromise: 'CA compromised',
        affiliationChanged: 'affiliation changed',
        superseded: 'superseded',
        cessationOfOperation: 'cessation of operation',
        certificateHold: 'on hold',
        privilegeWithdrawn: 'privilege withdrawn',
      },
    },
    attempts: 'Earlier attempts on the order',
    attempt: 'Attempt {n}, started {date} {time} by {admin}: {outcome}, reached step {step}.',
    attemptOutcomes: {
      active: 'in progress',
      completed: 'completed',
      'ack-timeout-revoked': 'not acknowledged in time',
      aborted: 'ended',
    },
    attemptTimeline: 'Timeline of attempt {n}',
  },
  admin: {
    title: 'Order a reserve card',
    intro:
      'Find the person, register the order "SITHS e-ID LoA3 till reservkort" and sign it with your card.',
    searchLabel: 'Personal identity number or HSA-id',
    search: 'Find person',
    person: 'Person',
    protected: 'Protected identity',
    orders: 'Reserve cards LoA3 ordered',
    noOrders: 'No orders.',
    newOrder: 'SITHS e-ID LoA3 on a reserve card',
    fromStock: "Pick a sealed card from the card station's stock",
    fromStockNone: '– or type the card number below –',
    product: 'Product',
    cardNumber: 'Reserve card number',
    validFrom: 'Valid from',
    validTo: 'Valid to',
    idDocument: 'ID document checked',
    idDocuments: {
      'swedish-passport': 'Swedish passport',
      'swedish-driving-licence': 'Swedish driving licence',
      'national-id-card': 'National ID card',
      'sis-id-card': 'SIS-certified ID card',
      'skatteverket-id-card': 'Swedish Tax Agency ID card',
      'foreign-passport': 'Foreign passport',
      other: 'Other document',
    },
    sign: 'Sign the order',
    registered: 'The order is registered and signed.',
    cancel: 'Cancel order',
    cancelled: 'The order is cancelled.',
    state: {
      registered: 'Registered',
      in_progress: 'Being issued',
      completed: 'Issued',
      cancelled: 'Cancelled',
      expired: 'Expired',
    },
    loa2: 'You are logged in with a LoA2 card and cannot register orders.',
  },
  stock: {
    title: 'Card stock',
    intro:
      "The card station's reserve cards: sealed cards the card bureau delivered, cards given out, and cards returned and destroyed.",
    station: 'Card station',
    counts: 'Cards per state',
    states: { sealed: 'Sealed', issued: 'Given out', returned: 'Returned', destroyed: 'Destroyed' },
    filter: 'Show',
    all: 'All',
    cards: 'Cards',
    cardNumber: 'Card number',
    product: 'Card product',
    physicalExpiry: 'Physically usable through',
    state: 'State',
    changed: 'Changed',
    empty: 'No cards.',
    importTitle: 'Import a batch',
    importIntro:
      "Paste the card bureau's batch lines or choose the CSV file. The first line names the columns: card_number, product, manufactured and (optional) physical_expiry. The whole batch is imported, or nothing.",
    paste: 'Batch lines (CSV)',
    file: 'Or choose a CSV file',
    importButton: 'Import the batch',
    imported: '{count} cards imported as sealed (batch {batch}).',
    problems: 'No card was imported. Correct the lines below and import the whole batch again:',
    returnTitle: 'Record a return',
    returnIntro:
      'When the card comes back, its e-ID is revoked and the card is destroyed. It can never be used again.',
    returnCard: 'Card given out',
    cause: 'Cause',
    causes: {
      'ordinary-card-back': 'The ordinary card is back (superseded)',
      'no-longer-needed': 'The card is no longer needed',
    },
    returnButton: 'Record the return',
    returned: 'Card {card} is returned: its e-ID is revoked and the card destroyed.',
    destroyTitle: 'Destroy a sealed card',
    destroyCard: 'Sealed card',
    why: 'Reason',
    whys: { damaged: 'The card is damaged', 'past-physical-expiry': 'The card is past its physical expiry' },
    destroyButton: 'Destroy the card',
    destroyed: 'Card {card} is destroyed.',
    none: 'No cards in that state.',
  },
  stations: {
    title: 'Card stations',
    intro:
      'A card station is a workstation whose card agent the server trusts: it signs what it sees of readers, cards and keys. Register this workstation before issuing reserve cards here, and revoke a station that is no longer to be used.',
    list: 'Card stations of your branches',
    empty: 'No card station is registered in your branches.',
    name: 'Name',
    id: 'Station id',
    branch: 'Branch',
    status: 'Status',
    validTo: 'Certificate valid to',
    statuses: { active: 'Active', revoked: 'Revoked', expired: 'Expired' },
    thisStation: 'this workstation',
    revoke: 'Revoke',
    revoked: 'Card station {id} is revoked.',
    register: 'Register this workstation',
    registerIntro:
      'The card agent makes a key of its own and the server issues a station certificate for it. Registering again renews the certificate.',
    stationName: 'Name of the card station',
    registerButton: 'Register the card station',
    registered: 'This workstation is registered as card station {id}.',
    renewed: 'Card station {id} has a new certificate.',
    thisWorkstation: 'This workstation: {status}',
    notRegistered: 'not registered',
  },
  desk: {
    title: 'Service desk',
    queue: 'Support cases',
    filterStatus: 'Show',
    statusColumn: 'Status',
    all: 'All',
    status: { open: 'New', assigned: 'Assigned', resolved: 'Resolved' },
    empty: 'No support cases.',
    case: 'Case {id}',
    reportedBy: 'Reported by',
    assignee: 'Assignee',
    assign: 'Take the case',
    resolve: 'Mark resolved',
    comment: 'New comment',
    addComment: 'Add comment',
    comments: 'Comments',
    timeline: 'Timeline',
    catalogue: 'From the error catalogue',
    back: 'Back to the queue',
    reporterComment: 'The reporter’s comment',
    notDesk: 'Only the service desk sees the queue.',
    search: 'Search the queue',
    searchHint: 'Case, reporter, recipient, card number, error code or assignee.',
    searchButton: 'Search',
    created: 'Reported',
    sortBy: 'Sort by {column}',
    noMatch: 'No support cases match the search.',
    station: 'Card station {id} (before login)',
  },
  training: {
    title: 'Training panel',
    open: 'Open the training panel',
    close: 'Close the training panel',
    readers: 'Virtual card readers',
    plug: 'Connect',
    unplug: 'Unplug',
    desk: 'Cards on the desk',
    insertInto: 'Insert in reader {n}',
    remove: 'Remove',
    adminCards: 'Administrators’ cards',
    reserveCards: 'Sealed reserve cards',
    pinLetter: 'PIN letter: PIN 1 {pin1}, PIN 2 {pin2}, PUK {puk}',
    clock: 'Clock',
    jump: 'Jump to the deadline',
    jumpExtension: 'Jump to the extension’s deadline',
    jumped: 'The clock has been moved forward {minutes} min.',
    scenarios: 'Try the error catalogue',
    tryIt: 'Try it',
    persons: 'People to search for',
    dropHere: 'Drop a card here',
    simulate: 'Simulate faults at the workstation',
    silentAgent: 'The card agent does not answer a button',
    unopenedDialog: 'Do not show the dialog for {pin}',
    station: 'Simulate faults at the card station',
    unregisteredStation: 'The card agent is no registered card station',
    forgedStatement: 'The card agent’s next statement is forged',
    cards: 'Simulate faults on the reserve card',
    counterfeitCard: 'Card without the card bureau’s key (counterfeit card)',
    exportableKeys: 'Keys that can be exported (faulty chip)',
  },
  practice: {
    button: 'Practise this',
    title: 'Practice of case {id}',
    busy: 'Setting the readers and cards …',
    missingScene:
      'This case cannot be practised: it was filed before the flow kept what the screen showed after each event. The readers and cards at the error ({code}) cannot be set again without guessing.',
    missingError: 'The case has no event with an error code to practise.',
    readersSet: 'The card readers and cards now stand as they did when the error came:',
    unplugged: 'unplugged',
    empty: 'connected, empty',
    holding: 'connected, with {card}',
    role: {
      admin: '{name}’s card {number}',
      reserve: 'the reserve card {number}',
      foreign: 'a card that is nobody’s, {number}',
    },
    reached: 'The flow had reached step {step}: {name}.',
    sinceStart: 'The error came {time} into the attempt.',
    deadlineLeft: 'There were {time} left to acknowledge the card.',
    deadlinePassed: 'The time to acknowledge the card had run out.',
    noDeadline: 'No acknowledgement time was running, so the clock need not move.',
    walkTitle: 'Walk to step {step} like this:',
    walkLogin:
      'Log out and log in with {name}’s card in card reader 1 (PIN 1 {pin1}). Both card readers must be connected.',
    walkStay: 'The error came on the login page: log out and see what login says.',
    walk: {
      manage: 'Press Manage orders.',
      search: 'Search for {person}.',
      select: 'Select the order.',
      sign: 'Review the order and press SIGN (PIN 2 {pin2}).',
      handover: 'Insert reserve card {card} in card reader 2 and press CONFIRM HANDOVER.',
      download: 'Accept the terms and press START DOWNLOAD.',
      pins: 'Enter the reserve card’s PINs from its PIN letter when the dialogs appear (PIN 1 {pin1}, PIN 2 {pin2}).',
    },
    walkSearchHidden: 'Search for the order’s recipient (protected identity: not shown here).',
    walkSearchAny: 'Search for a person with an order (see People to search for).',
    walkNoReserve: 'Insert a sealed reserve card in card reader 2 and press CONFIRM HANDOVER.',
    there: 'What happened there:',
    whatToTry: 'What to try:',
    caseCodes: 'Every code of the case: {codes}',
    reapply: 'Set the readers as in the case',
    reapplyHint:
      'Once at step {step}: press Set the readers as in the case (here or in the training panel), and the readers and cards stand as they did when the error came.',
    setClock: 'Set the clock as in the case',
    clockSet: 'The clock has moved forward so that {time} are left to acknowledge.',
    end: 'End the practice',
    active: 'Practice under way',
  },
  catalogue: {
    title: 'Error catalogue',
    intro: 'Every error code with its explanation and remedy.',
    step: 'Step',
  },
  replay: {
    open: 'Replay',
    caseTitle: 'Replay of case {id}',
    flowTitle: 'Replay of issuance {id}',
    intro:
      'The screen as the administrator saw it after each event. The replay changes nothing and reads no card.',
    backCase: 'Back to the case',
    backFlow: 'Back to the issuance',
    toolbar: 'Playback',
    play: 'Play',
    pause: 'Pause',
    previous: 'Previous event',
    next: 'Next event',
    slider: 'Point in time',
    speed: 'Speed',
    frame: 'Event {n} of {count}',
    time: '{date} at {time} (Swedish time)',
    attempt: 'Attempt {n}',
    notRecorded:
      'The state of the readers and cards was not recorded for this moment: the event was logged before that was kept. The step and codes are those logged.',
    readers: 'Readers and cards',
    pending: 'The button “{control}” had been pressed and was waiting for the card agent since {time}.',
    empty: 'There are no events to replay.',
    event: 'Event',
    status: {
      completed: 'The issuance was complete.',
      'ack-timeout-revoked': 'The time to acknowledge had run out and the certificates were revoked.',
      aborted: 'The issuance was aborted.',
    },
    roles: {
      admin: 'the administrator’s card',
      recipient: 'the recipient’s card',
      'previous-recipient': 'a previous recipient’s card',
      staff: 'another staff member’s card',
      unknown: 'unknown card',
    },
  },
};

export const UI_TEXTS: { readonly [L in Language]: UiTexts } = { sv, en };

/** Fills `{name}` placeholders. */
export const fill = (text: string, values: Readonly<Record<string, string | number>>): string =>
  text.replace(/\{(\w+)\}/g, (match, key: string) => (key in values ? String(values[key]) : match));
