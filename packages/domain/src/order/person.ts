import type { ErrorCode } from '../error-code.js';
import type { HsaId } from '../identifiers/hsa-id.js';
import { type PersonalNumber, personalNumberAge } from '../identifiers/personal-number.js';
import type { BranchId } from '../organisation/organisation-tree.js';
import type { CalendarDate } from '../time.js';
import { type IdDocument, LOA3_ID_DOCUMENTS } from './id-document.js';

/** A person in the directory: a potential recipient (kortmottagare). */
export interface Person {
  readonly hsaId: HsaId;
  /** Null for a person identified only by a foreign passport. */
  readonly personalNumber: PersonalNumber | null;
  readonly givenName: string;
  readonly surname: string;
  readonly branchId: BranchId;
  /** Skyddade personuppgifter: invisible to administrators without KUR. */
  readonly protectedIdentity: boolean;
  /** The Windows user principal name, if the directory has one (certificate SAN, smart-card logon). */
  readonly upn?: string | null;
  /** The e-mail address, if the directory has one (certificate SAN). */
  readonly email?: string | null;
}

export const ADULT_AGE = 18;

/** Whether a person may get a LoA3 reserve card: a personnummer (not a samordningsnummer), 18 or older. */
export const personEligibility = (person: Person, today: CalendarDate): readonly ErrorCode[] => {
  const pnr = person.personalNumber;
  if (pnr === null || pnr.kind !== 'personnummer') return ['NOT_ELIGIBLE'];
  return personalNumberAge(pnr, today) < ADULT_AGE ? ['RECIPIENT_UNDERAGE'] : [];
};

/** Eligibility including the ID document the administrator checked. */
export const recipientEligibility = (
  person: Person,
  idDocument: IdDocument,
  today: CalendarDate,
): readonly ErrorCode[] => {
  const codes = [...personEligibility(person, today)];
  if (!LOA3_ID_DOCUMENTS.includes(idDocument)) codes.push('ID_DOCUMENT_NOT_LOA3');
  return codes;
};
