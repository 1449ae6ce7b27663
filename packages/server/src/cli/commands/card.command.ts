import {
  type CardInitTarget,
  type CardKeySpec,
  FREE_SLOT,
  initialisePkcs11Card,
  Pkcs11Backend,
} from '@reservkort/agent';
import {
  type AssuranceLevel,
  buildOrganisationTree,
  CARD_NUMBER_LENGTH,
  CARD_NUMBER_PREFIX,
  type CardNumber,
  DAY,
  type HsaId,
  parseCardNumber,
  parseHsaId,
} from '@reservkort/domain';
import type { Holder } from '@reservkort/pki';
import { getAdmin, getPersonByHsaId, listBranches, type Store, type StoredAdmin } from '@reservkort/store';
import type { Command } from 'commander';
import { dataFolder } from '../../config/data-folder.js';
import { holderPlace } from '../../issuance/directory.js';
import { provisionStaffCard } from '../../issuance/staff-card-provisioner.js';
import { openCa, openDataStore, readCaSettings, systemClock } from '../ca-context.js';
import { assertNoPinsOnCommandLine, PIN_ENV, readCardPins, refusePinsOnCommandLine } from '../card-pins.js';
import { CliError } from '../cli-error.js';
import { CommandResources } from '../command-resources.js';
import { printRows } from '../output.js';
import { registerCardStockCommands } from './card-stock.command.js';

interface InitOptions {
  pkcs11Module: string;
  slot?: string;
  tokenLabel?: string;
  cardNumber: string;
  label?: string;
  pinsFile?: string;
  force?: boolean;
  json?: boolean;
}

interface IssueAdminOptions {
  pkcs11Module: string;
  cardNumber: string;
  hsaId: string;
  level: string;
  validDays: string;
  keySpec?: string;
  pinsFile?: string;
  force?: boolean;
  json?: boolean;
}

const PINS_HELP = `PIN 1 and PUK as pin=… and puk=… lines, mode 0600 (default: $${PIN_ENV.pin1}, $${PIN_ENV.puk})`;
const KEY_SPECS: readonly CardKeySpec[] = ['ecdsa-p256', 'rsa-2048'];

const cardNumberOf = (text: string): CardNumber => {
  const parsed = parseCardNumber(text);
  if (!parsed.ok) {
    throw new CliError(
      'CARD_NUMBER_INVALID',
      `not a card number: ${text} (${CARD_NUMBER_LENGTH} digits starting ${CARD_NUMBER_PREFIX})`,
      {
        ...parsed.error.details,
      },
    );
  }
  return parsed.value;
};

const hsaIdOf = (text: string): HsaId => {
  const parsed = parseHsaId(text);
  if (!parsed.ok) throw new CliError('HSA_ID_INVALID', `not an HSA-id: ${text}`, { ...parsed.error.details });
  return parsed.value;
};

/** The care provider at the top of the administrator's first branch, as the certificate names it. */
/**
 * The O, OU, UPN and e-mail of an administrator's card, by the rule of every card: O the care
 * provider at the top of their branch, OU the branch. Their branch is their own as a person of the
 * directory, or else the branch of their first role; without a tree, the CA's organisation alone.
 */
const placeOfAdmin = async (
  store: Store,
  admin: StoredAdmin,
  fallback: string,
): Promise<Pick<Holder, 'organisation' | 'unit' | 'upn' | 'email'>> => {
  const tree = buildOrganisationTree(await listBranches(store.db));
  const person = await getPersonByHsaId(store.db, admin.hsaId);
  const branchId = person?.branchId ?? admin.grants[0]?.branchId;
  const names = { upn: person?.upn ?? null, email: person?.email ?? null };
  if (!tree.ok || branchId === undefined || !tree.value.branches.has(branchId))
    return { organisation: fallback, unit: null, ...names };
  return { ...holderPlace(tree.value, branchId), ...names };
};

export const registerCardCommands = (program: Command): void => {
  const card = program
    .command('card')
    .description('cards as a card bureau delivers them: blank reserve cards, administrators’ cards');
  registerCardStockCommands(card);

  refusePinsOnCommandLine(
    card
      .command('init')
      .description(
        'initialise a PKCS#11 token as a blank reserve card: label, PIN 1, PUK (the SO PIN), the card number, and the card bureau key with its certificate from the CA (ca init first)',
      )
      .requiredOption('--pkcs11-module <path>', "the card vendor's PKCS#11 module")
      .option(
        '--slot <id>',
        `the slot: its id (0, 0x1f, or slot-31 as agent doctor shows it), or ${FREE_SLOT}: the first token never initialised`,
      )
      .option('--token-label <label>', 'the token that has this label now')
      .requiredOption('--card-number <number>', 'the 19-digit card number')
      .option('--label <label>', 'token label (default: the card number)')
      .option('--pins-file <file>', PINS_HELP)
      .option('--force', 'wipe a token that is already initialised (needs its current PUK)')
      .option('--json', 'print JSON'),
  ).action(async (options: InitOptions & Record<string, unknown>, command: Command) => {
    assertNoPinsOnCommandLine(options);
    if ((options.slot === undefined) === (options.tokenLabel === undefined)) {
      throw new CliError('REQUEST_INVALID', 'give either --slot or --token-label', { reason: 'target' });
    }
    const cardNumber = cardNumberOf(options.cardNumber);
    const pins = await readCardPins(options.pinsFile, true);
    if (pins.pin2 !== pins.pin1) {
      // PKCS#11 has one user PIN per token: PIN 2 is PIN 1 given again for the signature key.
      throw new CliError('PIN_FORMAT', 'a PKCS#11 token has one user PIN: PIN 2 must be PIN 1', {
        pin: 'pin2',
      });
    }
    const target: CardInitTarget =
      options.tokenLabel === undefined
        ? { slot: options.slot ?? FREE_SLOT }
        : { tokenLabel: options.tokenLabel };
    // The CA first: a card without its bureau certificate could never prove itself, so no CA, no card.
    const folder = dataFolder(command.optsWithGlobals().data);
    const opened = new CommandResources();
    const store = opened.add(await openDataStore(folder));
    let bureauSerial: string | null = null;
    await opened.run(async () => {
      const authority = opened.add(await openCa(folder, store));
      const done = await initialisePkcs11Card({
        module: options.pkcs11Module,
        target,
        cardNumber,
        ...(options.label === undefined ? {} : { label: options.label }),
        pin: pins.pin1,
        puk: pins.puk ?? '',
        force: options.force === true,
        certifyBureauKey: async (spki) => {
          const issued = await authority.issueCardBureau({ spki, cardNumber, actor: 'card-bureau' });
          bureauSerial = issued.serial;
          return new Uint8Array(issued.certificate.rawData);
        },
      });
      const { bureauKey, ...card } = done;
      const bureau =
        bureauKey === null ? null : { serial: bureauSerial, ca: 'bureau', ...bureauKey.attributes };
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ ...card, bureauKey: bureau }, null, 2)}\n`);
        return;
      }
      const replaced = done.wasInitialised ? ` (replacing ${done.replaced ?? 'an initialised token'})` : '';
      process.stdout.write(
        `card ${done.cardNumber} initialised in ${done.slot} (${done.slotDescription}), label ${done.label}, serial ${done.serial}${replaced}\n` +
          `card bureau key generated on the card, certificate ${bureauSerial ?? '?'} from the bureau CA\n`,
      );
    });
  });

  refusePinsOnCommandLine(
    card
      .command('issue-admin')
      .description(
        "make an administrator's card: both key pairs generated on the card (card init first), the CA issues the authentication and signature certificates, written to the card",
      )
      .requiredOption('--pkcs11-module <path>', "the card vendor's PKCS#11 module")
      .requiredOption('--card-number <number>', 'the card, in any reader of the module')
      .requiredOption('--hsa-id <id>', 'the administrator, as in the directory (reservkort directory import)')
      .option('--level <level>', 'LoA3 or LoA2', 'LoA3')
      .option('--valid-days <n>', 'validity of the certificates in days', '365')
      .option(
        '--key-spec <spec>',
        `key type on the card: ${KEY_SPECS.join(', ')} (default: the one the CA of --level certifies, see ca card-key-type)`,
      )
      .option(
        '--pins-file <file>',
        `PIN 1 (and pin2=… if it differs) as lines, mode 0600 (default: $${PIN_ENV.pin1})`,
      )
      .option('--force', 'replace keys and certificates the card already holds')
      .option('--json', 'print JSON'),
  ).action(async (options: IssueAdminOptions & Record<string, unknown>, command: Command) => {
    assertNoPinsOnCommandLine(options);
    const cardNumber = cardNumberOf(options.cardNumber);
    const hsaId = hsaIdOf(options.hsaId);
    if (options.level !== 'LoA3' && options.level !== 'LoA2') {
      throw new CliError('REQUEST_INVALID', '--level must be LoA3 or LoA2', { reason: 'level' });
    }
    const level: AssuranceLevel = options.level;
    const days = Number(options.validDays);
    if (!Number.isInteger(days) || days < 1 || days > 5 * 365) {
      throw new CliError('REQUEST_INVALID', '--valid-days must be 1–1825', { reason: 'valid-days' });
    }
    const chosenSpec =
      options.keySpec === undefined ? null : KEY_SPECS.find((spec) => spec === options.keySpec);
    if (chosenSpec === undefined) {
      throw new CliError('REQUEST_INVALID', `--key-spec must be one of ${KEY_SPECS.join(', ')}`, {
        reason: 'key-spec',
      });
    }
    const pins = await readCardPins(options.pinsFile, false);

    const folder = dataFolder(command.optsWithGlobals().data);
    const opened = new CommandResources();
    const store = opened.add(await openDataStore(folder));
    await opened.run(async () => {
      const admin = await getAdmin(store.db, hsaId);
      if (admin === null) {
        throw new CliError(
          'NOT_FOUND',
          `${hsaId} is not an administrator in the directory of ${folder.root}: add them with reservkort directory import first`,
          { hsaId },
        );
      }
      const ca = opened.add(await openCa(folder, store));
      const settings = await readCaSettings(folder);
      const holder: Holder = {
        hsaId,
        givenName: admin.givenName,
        surname: admin.surname,
        ...(await placeOfAdmin(store, admin, settings?.settings.organisation ?? hsaId)),
      };
      // The CA's token may be in this module too: both then share the one initialised library.
      const cards = opened.add(await Pkcs11Backend.open({ module: options.pkcs11Module, stateFile: null }));
      const readers = await cards.readers();
      const reader = readers.find((r) => r.card?.cardNumber === cardNumber);
      if (reader === undefined) {
        const seen = readers.flatMap((r) => (r.card?.cardNumber ? [r.card.cardNumber] : []));
        throw new CliError(
          'CARD_MISSING',
          `card ${cardNumber} is in no reader (cards seen: ${seen.join(', ') || 'none'}); make it with reservkort card init`,
          { cardNumber },
        );
      }
      const info = await cards.cardInfo(reader.id);
      if ((info.keys.auth || info.keys.sign || info.certificates.length > 0) && options.force !== true) {
        throw new CliError(
          'CARD_ERROR',
          `card ${cardNumber} already holds keys or certificates; --force replaces them`,
          { reason: 'CARD_NOT_BLANK', cardNumber },
        );
      }
      const now = systemClock.now();
      const issued = await provisionStaffCard({
        cards,
        ca,
        readerId: reader.id,
        cardNumber,
        pins,
        holder,
        level,
        validity: { notBefore: now, notAfter: now + days * DAY },
        actor: 'ca-operator',
        keySpec: chosenSpec ?? ca.cardKeyType(level === 'LoA2' ? 'loa2' : 'loa3'),
      });
      printRows(
        (['auth', 'sign'] as const).map((key) => ({
          key,
          serial: issued[key].serial,
          ca: level === 'LoA2' ? 'loa2' : 'loa3',
          hsaId,
          cardNumber,
          notAfter: issued[key].certificate.notAfter.toISOString(),
        })),
        options.json === true,
      );
    });
  });
};
