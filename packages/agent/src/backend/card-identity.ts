// A card says which card it is in up to three places: its label, the card-number object the card
// bureau wrote, and the card-number extension (1.2.752.34.2.1) of every certificate on it (the
// bureau's, and the holder's once issued). They are written at different times by different
// people, so a card whose places disagree has been tampered with or mixed up: it is the wrong
// card, whichever number it shows first.
import 'reflect-metadata';
import { AsnConvert } from '@peculiar/asn1-schema';
import { DirectoryString } from '@peculiar/asn1-x509';
import { X509Certificate } from '@peculiar/x509';
import { AgentError } from '../agent-error.js';
import type { ReaderId } from './card-backend.js';

/** The card-number extension's OID, as the CA writes it (a PrintableString of the 19 digits). */
export const CARD_NUMBER_EXTENSION_OID = '1.2.752.34.2.1';

/** One place a card keeps its number, named as the operator would look for it. */
export interface CardNumberSource {
  /** "token label", "card-number object", "card bureau certificate", … */
  readonly name: string;
  readonly value: string;
}

/**
 * The card number in a certificate's card-number extension; null for a certificate without one
 * (or one that is no certificate at all: such an object says nothing about the card's number).
 */
export const certificateCardNumber = (der: Uint8Array): string | null => {
  // A card is checked before every operation on it, and its certificates rarely change: parse each
  // one once (a certificate's bytes are its identity), not a few dozen times per issuance.
  const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  if (parsed.has(key)) return parsed.get(key) ?? null;
  const value = parseCardNumber(der);
  if (parsed.size >= PARSED_MAX) parsed.delete(parsed.keys().next().value as string);
  parsed.set(key, value);
  return value;
};

const PARSED_MAX = 256;
const parsed = new Map<string, string | null>();

const parseCardNumber = (der: Uint8Array): string | null => {
  try {
    const extension = new X509Certificate(new Uint8Array(der)).getExtension(CARD_NUMBER_EXTENSION_OID);
    if (extension === null) return null;
    return AsnConvert.parse(extension.value, DirectoryString).toString();
  } catch {
    return null;
  }
};

/** The certificate as a source of the card's number, if it carries one. */
export const certificateSource = (name: string, der: Uint8Array): CardNumberSource[] => {
  const value = certificateCardNumber(der);
  return value === null ? [] : [{ name, value }];
};

/**
 * WRONG_CARD unless every source names the same card. The first source is what the card shows
 * first (its label where that is a number): the message names it and the first one to disagree.
 */
export const checkCardIdentity = (readerId: ReaderId, sources: readonly CardNumberSource[]): void => {
  const [first, ...rest] = sources;
  if (first === undefined) return;
  const other = rest.find((source) => source.value.trim() !== first.value.trim());
  if (other === undefined) return;
  throw new AgentError(
    'WRONG_CARD',
    `the card in reader ${readerId} names two card numbers: the ${first.name} says ${first.value.trim()}, the ${other.name} says ${other.value.trim()}`,
    {
      reader: readerId,
      expected: first.value.trim(),
      actual: other.value.trim(),
      sources: `${first.name} / ${other.name}`,
    },
  );
};
