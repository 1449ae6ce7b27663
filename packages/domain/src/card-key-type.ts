/**
 * The key pair a reserve card generates for its holder: RSA-2048 as real SITHS cards carry (and as
 * relying parties and middleware are tested against), or ECDSA P-256. Chosen per person CA.
 */
export const CARD_KEY_TYPES = ['ecdsa-p256', 'rsa-2048'] as const;
export type CardKeyType = (typeof CARD_KEY_TYPES)[number];
export const DEFAULT_CARD_KEY_TYPE: CardKeyType = 'ecdsa-p256';

export const isCardKeyType = (value: unknown): value is CardKeyType =>
  typeof value === 'string' && (CARD_KEY_TYPES as readonly string[]).includes(value);
