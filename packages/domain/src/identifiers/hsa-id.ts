import { err, ok, type Result } from '../result.js';

/** A HSA-id: `SE` + organisation number + `-` + local part, e.g. `SE2321000016-abc1`. */
export type HsaId = string & { readonly __brand: 'HsaId' };

export const HSA_ID_MAX_LENGTH = 31;

export type HsaIdInvalidReason = 'prefix' | 'organisation-number' | 'local-part' | 'length';

const PREFIX = /^se/i;
const ORGANISATION_NUMBER = /^(?:\d{10}|16\d{10})$/;
const LOCAL_PART = /^[A-Za-z0-9]+$/;

const invalid = (reason: HsaIdInvalidReason) => err('HSA_ID_INVALID', { reason });

/**
 * Parses a HSA-id. Normalises only what is safe: surrounding whitespace and the case of the `SE`
 * prefix; the local part keeps its case because the directory may distinguish it.
 */
export const parseHsaId = (input: string): Result<HsaId> => {
  if (typeof input !== 'string') return invalid('prefix');
  const trimmed = input.trim();
  if (!PREFIX.test(trimmed)) return invalid('prefix');
  const rest = trimmed.slice(2);
  const hyphen = rest.indexOf('-');
  const organisationNumber = hyphen < 0 ? rest : rest.slice(0, hyphen);
  if (!ORGANISATION_NUMBER.test(organisationNumber)) return invalid('organisation-number');
  const localPart = hyphen < 0 ? '' : rest.slice(hyphen + 1);
  if (!LOCAL_PART.test(localPart)) return invalid('local-part');
  // Checked last so that the reason names a structural fault when there is one.
  if (trimmed.length > HSA_ID_MAX_LENGTH) return invalid('length');
  return ok(`SE${rest}` as HsaId);
};

/** The organisation number and local part of a HSA-id. */
export const hsaIdParts = (id: HsaId): { organisationNumber: string; localPart: string } => {
  const hyphen = id.indexOf('-');
  return { organisationNumber: id.slice(2, hyphen), localPart: id.slice(hyphen + 1) };
};
